//! The values a person compares: everything the record and consent checks judge, flattened
//! into one list of named text fields ("elderly.ratio", "consents.pharmacists.flag"), so that
//! one form row can show the terminal's value beside what the software stored, and the
//! answers can be put back together into the driver result.

use std::collections::BTreeMap;

use onshi_protocol::driver::{
    ConsentRecord, Consents, ElderlyRecord, LimitCertificateRecord, PatientRecord, SpecificDiseaseRecord,
};

/// One compared value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Field {
    /// Its key: the driver-protocol name, dotted for nested values.
    pub key: &'static str,
    /// Its name at the clinic.
    pub ja: &'static str,
    /// Its name in English.
    pub en: &'static str,
    /// Always shown (the card and the person); the others only when the terminal has them,
    /// or in the "other values" part of the form.
    pub primary: bool,
    /// Only in a face-auth result (consents, 照会番号).
    pub face_only: bool,
}

const fn f(key: &'static str, ja: &'static str, en: &'static str, primary: bool, face_only: bool) -> Field {
    Field {
        key,
        ja,
        en,
        primary,
        face_only,
    }
}

/// Every compared value, in the form's order.
pub const FIELDS: &[Field] = &[
    f("insurer_number", "保険者番号", "insurer number", true, false),
    f("symbol", "記号", "symbol", true, false),
    f("number", "番号", "number", true, false),
    f("branch", "枝番", "branch number", true, false),
    f("name", "氏名", "name", true, false),
    f("name_kana", "氏名（カナ）", "name in kana", true, false),
    f("birthdate", "生年月日", "date of birth", true, false),
    f("sex", "性別", "sex", true, false),
    f("insurer_name", "保険者名称", "insurer name", true, false),
    f("copay_ratio", "一部負担金割合", "co-payment ratio", true, false),
    f(
        "elderly.ratio",
        "高齢受給者証の負担割合",
        "elderly certificate: ratio",
        false,
        false,
    ),
    f(
        "elderly.valid_start",
        "高齢受給者証の有効開始日",
        "elderly certificate: valid from",
        false,
        false,
    ),
    f(
        "elderly.valid_end",
        "高齢受給者証の有効終了日",
        "elderly certificate: valid to",
        false,
        false,
    ),
    f(
        "limit_certificate.classification",
        "限度額適用認定証の区分",
        "limit certificate: classification",
        false,
        false,
    ),
    f(
        "limit_certificate.flag",
        "限度額適用認定証の長期入院該当",
        "limit certificate: flag",
        false,
        false,
    ),
    f(
        "specific_diseases",
        "特定疾病療養受療証（区分:自己負担限度額,…）",
        "specific diseases (category:self-pay,…)",
        false,
        false,
    ),
    f(
        "consents.limit_certificate.flag",
        "限度額情報の提供同意",
        "consent: limit certificate",
        false,
        true,
    ),
    f(
        "consents.limit_certificate.time",
        "限度額情報の同意日時",
        "consent time: limit certificate",
        false,
        true,
    ),
    f(
        "consents.specific_diseases.flag",
        "特定疾病情報の提供同意",
        "consent: specific diseases",
        false,
        true,
    ),
    f(
        "consents.specific_diseases.time",
        "特定疾病情報の同意日時",
        "consent time: specific diseases",
        false,
        true,
    ),
    f(
        "consents.specific_health_checkups.flag",
        "特定健診情報の閲覧同意",
        "consent: check-ups",
        false,
        true,
    ),
    f(
        "consents.specific_health_checkups.time",
        "特定健診情報の同意日時",
        "consent time: check-ups",
        false,
        true,
    ),
    f(
        "consents.specific_health_checkups.available_time",
        "特定健診情報の閲覧有効期限",
        "check-ups viewable until",
        false,
        true,
    ),
    f(
        "consents.pharmacists.flag",
        "薬剤情報の閲覧同意",
        "consent: drug information",
        false,
        true,
    ),
    f(
        "consents.pharmacists.time",
        "薬剤情報の同意日時",
        "consent time: drug information",
        false,
        true,
    ),
    f(
        "consents.pharmacists.available_time",
        "薬剤情報の閲覧有効期限",
        "drug information viewable until",
        false,
        true,
    ),
    f(
        "consents.diagnosis.flag",
        "診療情報の閲覧同意",
        "consent: diagnoses",
        false,
        true,
    ),
    f(
        "consents.diagnosis.time",
        "診療情報の同意日時",
        "consent time: diagnoses",
        false,
        true,
    ),
    f(
        "consents.diagnosis.available_time",
        "診療情報の閲覧有効期限",
        "diagnoses viewable until",
        false,
        true,
    ),
    f(
        "consents.operation.flag",
        "手術情報の閲覧同意",
        "consent: operations",
        false,
        true,
    ),
    f(
        "consents.operation.time",
        "手術情報の同意日時",
        "consent time: operations",
        false,
        true,
    ),
    f(
        "consents.operation.available_time",
        "手術情報の閲覧有効期限",
        "operations viewable until",
        false,
        true,
    ),
    f(
        "reference_number",
        "照会番号",
        "reference number (照会番号)",
        false,
        true,
    ),
];

/// Values by key.
pub type Values = BTreeMap<&'static str, String>;

fn consent_kinds(c: &Consents) -> [(&'static str, &Option<ConsentRecord>); 6] {
    [
        ("limit_certificate", &c.limit_certificate),
        ("specific_diseases", &c.specific_diseases),
        ("specific_health_checkups", &c.specific_health_checkups),
        ("pharmacists", &c.pharmacists),
        ("diagnosis", &c.diagnosis),
        ("operation", &c.operation),
    ]
}

fn consent_slot<'a>(c: &'a mut Consents, kind: &str) -> Option<&'a mut Option<ConsentRecord>> {
    Some(match kind {
        "limit_certificate" => &mut c.limit_certificate,
        "specific_diseases" => &mut c.specific_diseases,
        "specific_health_checkups" => &mut c.specific_health_checkups,
        "pharmacists" => &mut c.pharmacists,
        "diagnosis" => &mut c.diagnosis,
        "operation" => &mut c.operation,
        _ => return None,
    })
}

fn key(name: &str) -> Option<&'static str> {
    FIELDS.iter().find(|f| f.key == name).map(|f| f.key)
}

/// A stored answer as values by key (absent values are not in the map).
pub fn flatten(record: Option<&PatientRecord>, consents: Option<&Consents>, reference: Option<&str>) -> Values {
    let mut v = Values::new();
    let mut put = |k: &str, value: Option<&String>| {
        if let (Some(k), Some(value)) = (key(k), value) {
            v.insert(k, value.clone());
        }
    };
    if let Some(r) = record {
        put("insurer_number", r.insurer_number.as_ref());
        put("symbol", r.symbol.as_ref());
        put("number", r.number.as_ref());
        put("branch", r.branch.as_ref());
        put("name", r.name.as_ref());
        put("name_kana", r.name_kana.as_ref());
        put("birthdate", r.birthdate.as_ref());
        put("sex", r.sex.as_ref());
        put("insurer_name", r.insurer_name.as_ref());
        put("copay_ratio", r.copay_ratio.as_ref());
        if let Some(e) = &r.elderly {
            put("elderly.ratio", Some(&e.ratio));
            put("elderly.valid_start", e.valid_start.as_ref());
            put("elderly.valid_end", e.valid_end.as_ref());
        }
        if let Some(l) = &r.limit_certificate {
            put("limit_certificate.classification", Some(&l.classification));
            put("limit_certificate.flag", Some(&l.flag));
        }
        if let Some(list) = r.specific_diseases.as_ref().filter(|l| !l.is_empty()) {
            let text = list
                .iter()
                .map(|d| format!("{}:{}", d.category, d.self_pay.as_deref().unwrap_or("")))
                .collect::<Vec<_>>()
                .join(",");
            put("specific_diseases", Some(&text));
        }
    }
    if let Some(c) = consents {
        for (kind, got) in consent_kinds(c) {
            if let Some(g) = got {
                put(&format!("consents.{kind}.flag"), Some(&g.flag));
                put(&format!("consents.{kind}.time"), g.time.as_ref());
                put(&format!("consents.{kind}.available_time"), g.available_time.as_ref());
            }
        }
    }
    put("reference_number", reference.map(str::to_owned).as_ref());
    v
}

/// The record, consents and 照会番号 the values describe; each is absent when no value of it
/// was given.
pub fn assemble(v: &Values) -> (Option<PatientRecord>, Option<Consents>, Option<String>) {
    let get = |k: &str| v.get(k).cloned();
    let mut r = PatientRecord {
        insurer_number: get("insurer_number"),
        symbol: get("symbol"),
        number: get("number"),
        branch: get("branch"),
        name: get("name"),
        name_kana: get("name_kana"),
        birthdate: get("birthdate"),
        sex: get("sex"),
        insurer_name: get("insurer_name"),
        copay_ratio: get("copay_ratio"),
        ..Default::default()
    };
    if ["elderly.ratio", "elderly.valid_start", "elderly.valid_end"]
        .iter()
        .any(|k| v.contains_key(k))
    {
        r.elderly = Some(ElderlyRecord {
            ratio: get("elderly.ratio").unwrap_or_default(),
            valid_start: get("elderly.valid_start"),
            valid_end: get("elderly.valid_end"),
        });
    }
    if ["limit_certificate.classification", "limit_certificate.flag"]
        .iter()
        .any(|k| v.contains_key(k))
    {
        r.limit_certificate = Some(LimitCertificateRecord {
            classification: get("limit_certificate.classification").unwrap_or_default(),
            flag: get("limit_certificate.flag").unwrap_or_default(),
        });
    }
    if let Some(text) = get("specific_diseases") {
        r.specific_diseases = Some(
            text.split(',')
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(|item| {
                    let (category, self_pay) = item.split_once(':').unwrap_or((item, ""));
                    SpecificDiseaseRecord {
                        category: category.trim().to_owned(),
                        self_pay: Some(self_pay.trim().to_owned()).filter(|s| !s.is_empty()),
                    }
                })
                .collect(),
        );
    }
    let any_record = v
        .keys()
        .any(|k| !k.starts_with("consents.") && *k != "reference_number");
    let mut c = Consents::default();
    let mut any_consent = false;
    for (k, value) in v.iter().filter(|(k, _)| k.starts_with("consents.")) {
        let mut parts = k.splitn(3, '.').skip(1);
        let (Some(kind), Some(part)) = (parts.next(), parts.next()) else {
            continue;
        };
        let Some(slot) = consent_slot(&mut c, kind) else {
            continue;
        };
        let rec = slot.get_or_insert_with(ConsentRecord::default);
        match part {
            "flag" => rec.flag = value.clone(),
            "time" => rec.time = Some(value.clone()),
            "available_time" => rec.available_time = Some(value.clone()),
            _ => continue,
        }
        any_consent = true;
    }
    (
        any_record.then_some(r),
        any_consent.then_some(c),
        get("reference_number"),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn sample() -> (PatientRecord, Consents, String) {
        let record = PatientRecord {
            insurer_number: Some("06990012".into()),
            name: Some("検証　花子".into()),
            elderly: Some(ElderlyRecord {
                ratio: "2".into(),
                valid_start: Some("20250801".into()),
                valid_end: None,
            }),
            limit_certificate: Some(LimitCertificateRecord {
                classification: "A01".into(),
                flag: "0".into(),
            }),
            specific_diseases: Some(vec![
                SpecificDiseaseRecord {
                    category: "01".into(),
                    self_pay: Some("10000".into()),
                },
                SpecificDiseaseRecord {
                    category: "02".into(),
                    self_pay: None,
                },
            ]),
            ..Default::default()
        };
        let consents = Consents {
            pharmacists: Some(ConsentRecord {
                flag: "1".into(),
                time: Some("20251121093000".into()),
                available_time: Some("20251221093000".into()),
            }),
            operation: Some(ConsentRecord {
                flag: "3".into(),
                time: None,
                available_time: None,
            }),
            ..Default::default()
        };
        (record, consents, "0123456789".into())
    }

    #[test]
    fn a_stored_answer_survives_the_form() {
        let (r, c, n) = sample();
        let v = flatten(Some(&r), Some(&c), Some(&n));
        assert_eq!(v["specific_diseases"], "01:10000,02:");
        assert_eq!(v["consents.pharmacists.available_time"], "20251221093000");
        assert_eq!(assemble(&v), (Some(r), Some(c), Some(n)));
    }

    #[test]
    fn nothing_given_is_nothing_stored() {
        assert_eq!(assemble(&Values::new()), (None, None, None));
        assert!(flatten(None, None, None).is_empty());
    }

    #[test]
    fn every_flattened_key_is_a_field() {
        let (r, c, n) = sample();
        for k in flatten(Some(&r), Some(&c), Some(&n)).keys() {
            assert!(FIELDS.iter().any(|f| f.key == *k), "{k}");
        }
    }

    proptest! {
        /// Whatever a person types, the answer is put together without a panic, and the
        /// card's values come back as typed.
        #[test]
        fn any_typed_values_assemble(values in proptest::collection::btree_map(0..FIELDS.len(), "[^\u{0}]{0,12}", 0..12)) {
            let v: Values = values.into_iter().map(|(i, s)| (FIELDS[i].key, s)).collect();
            let (r, _, n) = assemble(&v);
            prop_assert_eq!(r.and_then(|r| r.number), v.get("number").cloned());
            prop_assert_eq!(n, v.get("reference_number").cloned());
        }
    }
}
