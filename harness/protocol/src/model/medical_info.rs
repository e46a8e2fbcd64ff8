//! 薬剤情報 and 特定健診情報 閲覧 (`YZKsiquc01`, `TKKsiquc01`): requests with their own header
//! element names, and the XML results (PDF results are files, not messages). Where the
//! reference only knows an element by an XPath (`//ResultCode`), it is placed in the header
//! [I].

use serde::{Deserialize, Serialize};

use super::{Child, Field, FieldKind, ModelError, Repeated, XmlRecord};
use crate::codes;
use crate::xml::Element;

xml_record! {
    /// Header of a `YZK`/`TKK` request — note `InsuranceCardSymbol`,
    /// `InsuredPersonIdentificationNumber` and `BranchNumber`, not the 資格確認 names.
    pub struct MedicalInfoRequestHeader = "MessageHeader" {
        medical_institution_code: String = "MedicalInstitutionCode",
        insurer_number: String = "InsurerNumber",
        insurance_card_symbol: String = "InsuranceCardSymbol",
        insured_person_identification_number: String = "InsuredPersonIdentificationNumber",
        branch_number: String = "BranchNumber",
        arbitrary_file_identifier: String = "ArbitraryFileIdentifier",
    }
}

xml_record! {
    /// Body of a `YZK`/`TKK` request. `StartDate`/`EndDate` (YYYYMM) belong to 薬剤 only.
    pub struct MedicalInfoRequestBody = "MessageBody" {
        start_date: String = "StartDate",
        end_date: String = "EndDate",
        file_category: String = "FileCategory",
        pr_di_inf_classification: codes::PrDiInfClassification = "PrDiInfClassification",
        medical_treatment_flag: codes::MedicalTreatmentFlag = "MedicalTreatmentFlag",
    }
}

xml_record! {
    /// `YZKsiquc01req` / `TKKsiquc01req` — 薬剤情報 / 特定健診情報 の閲覧要求.
    pub struct MedicalInfoRequest = "XmlMsg" {
        message_header: MedicalInfoRequestHeader = "MessageHeader",
        message_body: MedicalInfoRequestBody = "MessageBody",
    }
}

xml_record! {
    /// 資格情報 in a drug result's header.
    pub struct QuaInf = "QuaInf" {
        name: String = "Name",
        kana_name: String = "KanaName",
        birth: String = "Birth",
        adm_gend_code: codes::Sex = "AdmGendCode",
    }
}

xml_record! {
    /// Header of a drug result.
    pub struct DrugResultHeader = "MessageHeader" {
        process_execution_time: String = "ProcessExecutionTime",
        medical_institution_code: String = "MedicalInstitutionCode",
        arbitrary_file_identifier: String = "ArbitraryFileIdentifier",
        result_code: String = "ResultCode",
        message_contents: String = "MessageContents",
        character_code_identifier: codes::CharacterCodeIdentifier = "CharacterCodeIdentifier",
        qua_inf: QuaInf = "QuaInf",
    }
}

xml_record! {
    /// 薬剤 — one drug of a prescription or dispensing.
    pub struct DrugInf = "DrugInf" {
        drug_c: String = "DrugC",
        drug_n: String = "DrugN",
        ingre_n: String = "IngreN",
        qua1: String = "Qua1",
        unit: String = "Unit",
        usage_n: String = "UsageN",
        times: String = "Times",
        sp_inst: String = "SpInst",
        me_tr_id_cl: String = "MeTrIdCl",
    }
}

xml_list! {
    /// `DrugInfs`.
    pub struct DrugInfs = "DrugInfs" of DrugInf = "DrugInf";
}

xml_record! {
    /// 診療行為 — one treatment (診療情報, when requested).
    pub struct MeTrInf = "MeTrInf" {
        sin_inf_cd: String = "SinInfCd",
        sin_inf_n: String = "SinInfN",
        qua1: String = "Qua1",
        unit: String = "Unit",
        times: String = "Times",
        me_tr_id_cl: String = "MeTrIdCl",
    }
}

xml_list! {
    /// `MeTrInfs`.
    pub struct MeTrInfs = "MeTrInfs" of MeTrInf = "MeTrInf";
}

xml_record! {
    /// 調剤日 / 処方日 with its drugs.
    pub struct DiDateInf = "DiDateInf" {
        di_date: String = "DiDate",
        pr_date: String = "PrDate",
        drug_infs: DrugInfs = "DrugInfs",
        me_tr_infs: MeTrInfs = "MeTrInfs",
    }
}

xml_list! {
    /// `DiDateInfs`.
    pub struct DiDateInfs = "DiDateInfs" of DiDateInf = "DiDateInf";
}

xml_record! {
    /// 診療月 — one month of one institution's claims (レセプト).
    pub struct MeTrMonthInf = "MeTrMonthInf" {
        di_org: String = "DiOrg",
        me_tr_di_h_cd: String = "MeTrDiHCd",
        prls_h_cd: String = "PrlsHCd",
        me_tr_di_h_nm: String = "MeTrDiHNm",
        me_tr_month: String = "MeTrMonth",
        prls_h_nm: String = "PrlsHNm",
        pr_is_org: String = "PrIsOrg",
        in_out: String = "InOut",
        di_date_infs: DiDateInfs = "DiDateInfs",
    }
}

xml_record! {
    /// Body of a drug result.
    pub struct DrugResultBody = "MessageBody" {
        me_tr_month_inf: Repeated<MeTrMonthInf> = "MeTrMonthInf",
    }
}

xml_record! {
    /// `YZKsiquc01res_*.xml` — 薬剤情報.
    pub struct DrugResult = "XmlMsg" {
        message_header: DrugResultHeader = "MessageHeader",
        message_body: DrugResultBody = "MessageBody",
    }
}

xml_record! {
    /// 資格情報 in a check-up result's header (its own element names).
    pub struct QualificationsInfo = "QualificationsInfo" {
        name: String = "Name",
        kanas_name: String = "KanasName",
        birthday: String = "Birthday",
        administrative_gender_code: codes::Sex = "AdministrativeGenderCode",
    }
}

xml_record! {
    /// Header of a check-up result.
    pub struct CheckupResultHeader = "MessageHeader" {
        process_execution_time: String = "ProcessExecutionTime",
        medical_institution_code: String = "MedicalInstitutionCode",
        arbitrary_file_identifier: String = "ArbitraryFileIdentifier",
        result_code: String = "ResultCode",
        message_contents: String = "MessageContents",
        character_code_identifier: codes::CharacterCodeIdentifier = "CharacterCodeIdentifier",
        qualifications_info: QualificationsInfo = "QualificationsInfo",
    }
}

xml_record! {
    /// One result or question of a check-up.
    pub struct HealthCheckupResultAndQuestionInfo = "HealthCheckupResultAndQuestionInfo" {
        item_code: String = "ItemCode",
        item_name: String = "ItemName",
        data_type: String = "DataType",
        data_value: String = "DataValue",
        unit: String = "Unit",
        oid: String = "Oid",
        data_value_name: String = "DataValueName",
    }
}

xml_list! {
    /// `HealthCheckupResultAndQuestionInfos`.
    pub struct HealthCheckupResultAndQuestionInfos = "HealthCheckupResultAndQuestionInfos"
        of HealthCheckupResultAndQuestionInfo = "HealthCheckupResultAndQuestionInfo";
}

xml_record! {
    /// 特定健診 — one check-up.
    pub struct SpecificHealthCheckupInfo = "SpecificHealthCheckupInfo" {
        effective_time: String = "EffectiveTime",
        health_checkup_result_and_question_infos: HealthCheckupResultAndQuestionInfos =
            "HealthCheckupResultAndQuestionInfos",
    }
}

xml_record! {
    /// Body of a check-up result.
    pub struct CheckupResultBody = "MessageBody" {
        specific_health_checkup_info: Repeated<SpecificHealthCheckupInfo> = "SpecificHealthCheckupInfo",
    }
}

xml_record! {
    /// `TKKsiquc01res_*.xml` — 特定健診情報.
    pub struct CheckupResult = "XmlMsg" {
        message_header: CheckupResultHeader = "MessageHeader",
        message_body: CheckupResultBody = "MessageBody",
    }
}
