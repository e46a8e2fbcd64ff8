#!/usr/bin/env python3
"""An onshi-driver/1 adapter in Python, written from docs/driver-protocol.md alone.

It contains its own small folder-interface client (standing in for "your client"), so it can be
run as it is:

    onshi run --adapter "python3 examples/python-adapter/adapter.py"

Only the Python standard library is used. Logging goes to stderr; stdout carries JSON-RPC.
"""
import itertools
import json
import os
import re
import sys
import time
import xml.etree.ElementTree as ET

PROTOCOL = "onshi-driver/1"


def log(*args):
    print("[python-adapter]", *args, file=sys.stderr, flush=True)


# --- a small folder-interface client -------------------------------------------------------


def decode_xml(data):
    """Decodes bytes by their XML declaration (UTF-8 or Shift_JIS) and parses them."""
    head = data[:200].decode("ascii", errors="replace")
    m = re.search(r"""encoding\s*=\s*["']([A-Za-z0-9_\-]+)["']""", head)
    encoding = (m.group(1) if m else "utf-8").lower()
    if encoding in ("shift_jis", "sjis", "cp932", "windows-31j"):
        encoding = "cp932"
    text = data.decode(encoding)
    text = re.sub(r"^\ufeff?<\?xml[^>]*\?>", "", text)  # ElementTree wants no declaration in a str
    return ET.fromstring(text)


def text(node, path):
    el = node.find(path) if node is not None else None
    return el.text if el is not None and el.text is not None else (None if el is None else "")


class FolderClient:
    def __init__(self, folders, institution_code, workstation):
        self.req, self.res, self.face = folders["req"], folders["res"], folders["face"]
        self.institution_code = institution_code
        # Several reception PCs share one folder: each puts its id into its file names, so
        # two PCs counting from 1 never write the same request or read each other's result.
        ws = "".join(c for c in (workstation or "") if c.isascii() and c.isalnum())[:6]
        self.workstation = "W%s" % ws if ws else ""
        self.counter = itertools.count(1)

    def write_request(self, card, date, consent):
        # Never reuse a name whose request or (old) result is still there: a result left in
        # res/ would be read as this request's answer.
        while True:
            suffix = "%s%s%04d" % (date, self.workstation, next(self.counter))
            name = "OQSsiquc01req_%s.xml" % suffix
            taken = os.path.exists(os.path.join(self.req, name)) or os.path.exists(
                os.path.join(self.res, "OQSsiquc01res_%s.xml" % suffix)
            )
            if not taken:
                break
        afi = "PY%s" % suffix
        insurer = card["insurer_number"].strip().rjust(8)  # 6-digit 国保 numbers: two leading spaces
        parts = [
            '<?xml version="1.0" encoding="UTF-8" standalone="no"?>',
            "<XmlMsg><MessageHeader>",
            "<QualificationConfirmationDate>%s</QualificationConfirmationDate>" % date,
            "<MedicalInstitutionCode>%s</MedicalInstitutionCode>" % self.institution_code,
            "<ArbitraryFileIdentifier>%s</ArbitraryFileIdentifier>" % afi,
            "</MessageHeader><MessageBody><QualificationConfirmSearchInfo>",
            "<InsurerNumber>%s</InsurerNumber>" % insurer,
        ]
        if card.get("symbol"):
            parts.append("<InsuredCardSymbol>%s</InsuredCardSymbol>" % escape(card["symbol"]))
        parts.append("<InsuredIdentificationNumber>%s</InsuredIdentificationNumber>" % escape(card["number"]))
        if card.get("branch"):
            parts.append("<InsuredBranchNumber>%s</InsuredBranchNumber>" % card["branch"])
        parts += [
            "<Birthdate>%s</Birthdate>" % card["birthdate"],
            "<LimitApplicationCertificateRelatedConsFlg>%s</LimitApplicationCertificateRelatedConsFlg>"
            % ("1" if consent else "0"),
            "</QualificationConfirmSearchInfo></MessageBody></XmlMsg>",
        ]
        tmp = os.path.join(self.req, ".py-%s.tmp" % suffix)
        with open(tmp, "wb") as f:  # temporary name, then rename: the file appears complete
            f.write("".join(parts).encode("utf-8"))
            f.flush()
            os.fsync(f.fileno())
        os.rename(tmp, os.path.join(self.req, name))
        return suffix, afi

    def confirm(self, card, date, consent, timeout_ms):
        suffix, afi = self.write_request(card, date, consent)
        res = os.path.join(self.res, "OQSsiquc01res_%s.xml" % suffix)
        err = os.path.join(self.res, "OQSsiquc01req_%s.err" % suffix)
        deadline = time.time() + timeout_ms / 1000.0
        while time.time() < deadline:
            if os.path.exists(err):
                with open(err, "rb") as f:
                    raw = f.read()
                try:
                    message = raw.decode("utf-8")
                except UnicodeDecodeError:
                    message = raw.decode("cp932", errors="replace")
                return {"outcome": "error", "message": message.strip()}
            if os.path.exists(res):
                root = stable_parse(res, deadline)
                if root is None:
                    return {"outcome": "error", "message": "the result file could not be read"}
                header = root.find("MessageHeader")
                if text(header, "ArbitraryFileIdentifier") != afi:
                    # Someone else's file under our result name: wait for ours to replace it.
                    time.sleep(0.025)
                    continue
                os.remove(res)
                return conclude(root)
            time.sleep(0.025)
        req = os.path.join(self.req, "OQSsiquc01req_%s.xml" % suffix)
        if os.path.exists(req):
            os.remove(req)
        return {"outcome": "error", "message": "タイムアウト (no result within %d ms)" % timeout_ms}

    def import_face(self, name, timeout_ms):
        if "/" in name or "\\" in name or ".." in name:
            return {"outcome": "error", "message": "bad file name"}
        path = os.path.join(self.face, name)
        root = stable_parse(path, time.time() + timeout_ms / 1000.0)
        if root is None:
            return {"outcome": "error", "message": "the face file did not become readable"}
        result = conclude(root)
        first = root.find("MessageBody/ResultList/ResultOfQualificationConfirmation")
        if first is not None:
            result["consents"] = consents(first)
            ref = text(first, "ReferenceNumber")
            if ref:
                result["reference_number"] = ref
        os.remove(path)
        return result


def escape(s):
    return s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def stable_parse(path, deadline):
    """Parses a file once two reads 100 ms apart agree and the XML is complete."""
    while time.time() < deadline:
        try:
            with open(path, "rb") as f:
                first = f.read()
            time.sleep(0.1)
            with open(path, "rb") as f:
                second = f.read()
            if first == second:
                return decode_xml(second)
        except (FileNotFoundError, ET.ParseError, UnicodeDecodeError):
            pass
        time.sleep(0.05)
    return None


OUTCOMES = {"1": "valid", "2": "invalid", "3": "invalid_new_qualification", "4": "not_found", "5": "multiple", "6": "valid"}
LABELS = {"1": "有効", "2": "無効", "3": "無効（新しい資格あり）", "4": "該当資格なし", "5": "複数該当", "6": "有効（未登録）"}


def conclude(root):
    header, body = root.find("MessageHeader"), root.find("MessageBody")
    if text(header, "SegmentOfResult") != "1":
        return {"outcome": "error", "message": "%s %s" % (text(header, "ErrorCode") or "", text(header, "ErrorMessage") or "")}
    status = text(body, "ProcessingResultStatus")
    message = text(body, "ProcessingResultMessage")
    if status != "1":
        return {"outcome": "error", "message": "%s %s" % (text(body, "ProcessingResultCode") or "", message or "")}
    validity = text(body, "QualificationValidity")
    if validity not in OUTCOMES:
        return {"outcome": "error", "message": "unknown QualificationValidity %r" % validity}
    results = body.findall("ResultList/ResultOfQualificationConfirmation")
    answer = {"outcome": OUTCOMES[validity], "message": LABELS[validity] + (" " + message if message else "")}
    if validity in ("1", "2", "3", "6"):
        if len(results) != 1:
            return {"outcome": "error", "message": "expected one result, got %d" % len(results)}
        answer["record"] = record(results[0])
    return answer


def record(r):
    rec = {}
    for key, element in [
        ("insurer_number", "InsurerNumber"), ("symbol", "InsuredCardSymbol"),
        ("number", "InsuredIdentificationNumber"), ("branch", "InsuredBranchNumber"), ("name", "Name"),
        ("name_kana", "NameKana"), ("birthdate", "Birthdate"), ("sex", "Sex1"), ("insurer_name", "InsurerName"),
        ("copay_ratio", "InsuredPartialContributionRatio"),
    ]:
        value = text(r, element)
        if value is not None:
            rec[key] = value
    elderly = r.find("ElderlyRecipientCertificateInfo")
    if elderly is not None:
        rec["elderly"] = {"ratio": text(elderly, "ElderlyRecipientContributionRatio") or ""}
        for key, element in [("valid_start", "ElderlyRecipientValidStartDate"), ("valid_end", "ElderlyRecipientValidEndDate")]:
            if text(elderly, element) is not None:
                rec["elderly"][key] = text(elderly, element)
    limit = r.find("LimitApplicationCertificateRelatedInfo")
    if limit is not None:
        rec["limit_certificate"] = {
            "classification": text(limit, "LimitApplicationCertificateClassification") or "",
            "flag": text(limit, "LimitApplicationCertificateClassificationFlag") or "",
        }
    diseases = r.findall("SpecificDiseasesCertificateList/SpecificDiseasesCertificateInfo")
    if diseases:
        rec["specific_diseases"] = [
            dict({"category": text(d, "SpecificDiseasesDiseaseCategory") or ""},
                 **({"self_pay": text(d, "SpecificDiseasesSelfPay")} if text(d, "SpecificDiseasesSelfPay") is not None else {}))
            for d in diseases
        ]
    return rec


def consents(r):
    out = {}
    for key, flag, time_el, available in [
        ("limit_certificate", "LimitApplicationCertificateRelatedConsFlg", "LimitApplicationCertificateRelatedConsTime", None),
        ("specific_diseases", "SpecificDiseasesCertificateRelatedConsFlg", "SpecificDiseasesCertificateRelatedConsTime", None),
        ("specific_health_checkups", "SpecificHealthCheckupsInfoConsFlg", "SpecificHealthCheckupsInfoConsTime", "SpecificHealthCheckupsInfoAvailableTime"),
        ("pharmacists", "PharmacistsInfoConsFlg", "PharmacistsInfoConsTime", "PharmacistsInfoAvailableTime"),
        ("diagnosis", "DiagnosisInfoConsFlg", "DiagnosisInfoConsTime", "DiagnosisInfoAvailableTime"),
        ("operation", "OperationInfoConsFlg", "OperationInfoConsTime", "OperationInfoAvailableTime"),
    ]:
        f = text(r, flag)
        if f is None:
            continue
        entry = {"flag": f}
        if text(r, time_el) is not None:
            entry["time"] = text(r, time_el)
        if available and text(r, available) is not None:
            entry["available_time"] = text(r, available)
        out[key] = entry
    return out


# --- the adapter: JSON-RPC over stdin/stdout -----------------------------------------------


def main():
    client = None
    for line in sys.stdin:
        if not line.strip():
            continue
        request = json.loads(line)
        rid, method, params = request.get("id"), request.get("method"), request.get("params") or {}
        try:
            if method == "initialize":
                if params.get("protocol") != PROTOCOL:
                    raise RpcError(-32602, "this adapter speaks %s" % PROTOCOL)
                env = params["environment"]
                client = FolderClient(env["terminal"], env["institution_code"], env.get("workstation"))
                result = {"client": {"name": "python-example-adapter", "version": "1.0"},
                          "capabilities": ["file.qualification", "file.face"]}
            elif method == "reset":
                result = {}
            elif method == "confirm_qualification":
                if params["via"] != "file":
                    raise RpcError(1001, "only the folder interface is implemented")
                date = params.get("date") or time.strftime("%Y%m%d")
                result = client.confirm(params["card"], date, params["consent_limit_certificate"],
                                        params.get("timeout_ms") or 30000)
            elif method == "import_face":
                result = client.import_face(params["file"], params["timeout_ms"])
            elif method == "shutdown":
                reply(rid, result={})
                return
            else:
                raise RpcError(-32601, "%s is not implemented" % method)
            reply(rid, result=result)
        except RpcError as e:
            reply(rid, error={"code": e.code, "message": e.message})
        except Exception as e:  # the adapter must always answer
            log("error in", method, repr(e))
            reply(rid, error={"code": 1000, "message": "%s failed: %r" % (method, e)})


class RpcError(Exception):
    def __init__(self, code, message):
        super().__init__(message)
        self.code, self.message = code, message


def reply(rid, result=None, error=None):
    msg = {"jsonrpc": "2.0", "id": rid}
    if error is not None:
        msg["error"] = error
    else:
        msg["result"] = result
    sys.stdout.write(json.dumps(msg, ensure_ascii=False) + "\n")
    sys.stdout.flush()


if __name__ == "__main__":
    main()
