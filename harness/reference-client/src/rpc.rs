//! The adapter side of `onshi-driver/1`: one JSON-RPC request per line on stdin, one
//! response per line on stdout.

use std::io::{BufRead, Write};

use onshi_protocol::driver::{
    self, ClientInfo, ConfirmBulkParams, ConfirmQualificationParams, Empty, FetchMedicalInfoParams, ImportFaceParams,
    InitializeParams, InitializeResult, PullBulkParams, RegisterReferenceNumberParams, RpcError, RpcRequest,
    RpcResponse, Via, capability, error_code, method,
};
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::Value;

use crate::api::ApiClient;
use crate::folder::{FolderClient, Options};

/// Application error: the harness called a method before `initialize`.
const NOT_INITIALIZED: i64 = 1000;
/// Application error: the requested interface is not implemented by this client.
const UNSUPPORTED_VIA: i64 = 1001;

/// The adapter's state between calls.
pub struct Adapter {
    options: Options,
    client: Option<FolderClient>,
    api: Option<ApiClient>,
    /// The PC/SC reader of `environment.pcsc` (used only with the `pcsc` feature).
    #[cfg_attr(not(feature = "pcsc"), allow(dead_code))]
    pcsc_reader: Option<String>,
}

enum Flow {
    Continue,
    Stop,
}

impl Adapter {
    /// An adapter with these settings, not yet initialised.
    pub fn new(options: Options) -> Self {
        Adapter {
            options,
            client: None,
            api: None,
            pcsc_reader: None,
        }
    }

    /// Serves requests until `shutdown` or end of input.
    pub fn serve(mut self, input: impl BufRead, mut output: impl Write) -> std::io::Result<()> {
        for line in input.lines() {
            let line = line?;
            if line.trim().is_empty() {
                continue;
            }
            let (response, flow) = self.handle_line(&line);
            serde_json::to_writer(&mut output, &response)?;
            output.write_all(b"\n")?;
            output.flush()?;
            if let Flow::Stop = flow {
                break;
            }
        }
        Ok(())
    }

    fn handle_line(&mut self, line: &str) -> (RpcResponse, Flow) {
        let request: RpcRequest = match serde_json::from_str(line) {
            Ok(r) => r,
            Err(e) => {
                return (
                    error(
                        Value::Null,
                        error_code::PARSE_ERROR,
                        format!("not a JSON-RPC request: {e}"),
                    ),
                    Flow::Continue,
                );
            }
        };
        let id = request.id.clone();
        tracing::debug!(method = %request.method, "call");
        let mut params = request.params.unwrap_or(Value::Null);
        if self.options.fixed_timeout
            && let Some(t) = params.get_mut("timeout_ms")
        {
            // a fixed time-out: what the harness asks for is not heard
            *t = Value::from(self.options.timeout_ms);
        }
        let outcome = match request.method.as_str() {
            method::INITIALIZE => call(params, |p: InitializeParams| self.initialize(p)),
            method::RESET => call(params, |_: Option<Empty>| {
                if let Some(api) = self.api.as_mut() {
                    api.reset();
                }
                if let Some(client) = self.client.as_mut() {
                    client.reset();
                }
                Ok(Empty {})
            }),
            method::CONFIRM_QUALIFICATION => call(params, |p: ConfirmQualificationParams| match p.via {
                Via::File => Ok(self.client()?.confirm(&p)),
                Via::Api => match self.api.as_mut() {
                    Some(api) => Ok(api.confirm(&p)),
                    None => Err((UNSUPPORTED_VIA, "initialize gave no api environment".into())),
                },
            }),
            method::IMPORT_FACE => call(params, |p: ImportFaceParams| Ok(self.client()?.import_face(&p))),
            method::REGISTER_REFERENCE_NUMBER => call(params, |p: RegisterReferenceNumberParams| {
                Ok(self.client()?.register_reference_number(&p))
            }),
            method::CONFIRM_BULK => call(params, |p: ConfirmBulkParams| Ok(self.client()?.confirm_bulk(&p))),
            method::PULL_BULK => call(params, |p: PullBulkParams| Ok(self.client()?.pull_bulk(&p))),
            method::FETCH_MEDICAL_INFO => call(params, |p: FetchMedicalInfoParams| {
                Ok(self.client()?.fetch_medical_info(&p))
            }),
            #[cfg(feature = "pcsc")]
            method::VERIFY_CARD_PIN => call(params, |p: onshi_protocol::driver::VerifyCardPinParams| {
                let reader = self
                    .pcsc_reader
                    .clone()
                    .ok_or((UNSUPPORTED_VIA, "initialize gave no pcsc environment".to_owned()))?;
                Ok(crate::card::verify_card_pin(&reader, &p, &self.options.defects))
            }),
            method::SHUTDOWN => {
                return (ok(id, &Empty {}), Flow::Stop);
            }
            other => Err((
                error_code::METHOD_NOT_FOUND,
                format!("method {other:?} is not implemented"),
            )),
        };
        let response = match outcome {
            Ok(v) => RpcResponse {
                jsonrpc: "2.0".into(),
                id,
                result: Some(v),
                error: None,
            },
            Err((code, message)) => error(id, code, message),
        };
        (response, Flow::Continue)
    }

    fn client(&mut self) -> Result<&mut FolderClient, (i64, String)> {
        self.client
            .as_mut()
            .ok_or((NOT_INITIALIZED, "call initialize first".to_owned()))
    }

    fn initialize(&mut self, p: InitializeParams) -> Result<InitializeResult, (i64, String)> {
        if p.protocol != driver::PROTOCOL {
            return Err((
                error_code::INVALID_PARAMS,
                format!("this adapter speaks {}, not {}", driver::PROTOCOL, p.protocol),
            ));
        }
        let folders = p.environment.terminal.ok_or((
            error_code::INVALID_PARAMS,
            "the environment has no terminal folder".to_owned(),
        ))?;
        let mut client = FolderClient::new(&folders, &p.environment.institution_code, self.options.clone());
        client.set_workstation(p.environment.workstation.as_deref());
        self.client = Some(client);
        self.api = match &p.environment.api {
            None => None,
            Some(env) => Some(
                ApiClient::new(env, &p.environment.institution_code, self.options.clone())
                    .map_err(|e| (error_code::INVALID_PARAMS, format!("the api environment: {e}")))?,
            ),
        };
        let mut capabilities: Vec<String> = [
            capability::FILE_QUALIFICATION,
            capability::FILE_FACE,
            capability::FILE_REFERENCE_NUMBER,
            capability::FILE_BULK_QUALIFICATION,
            capability::FILE_BULK_PULL,
            capability::FILE_MEDICAL_INFO,
        ]
        .map(String::from)
        .into();
        if self.api.is_some() {
            capabilities.push(capability::API_QUALIFICATION.into());
        }
        self.pcsc_reader = p.environment.pcsc.as_ref().map(|e| e.reader.clone());
        if cfg!(feature = "pcsc") && self.pcsc_reader.is_some() {
            capabilities.push(capability::CARD_PCSC.into());
        }
        let defects: Vec<String> = self.options.defects.iter().map(|d| d.to_string()).collect();
        Ok(InitializeResult {
            client: ClientInfo {
                name: if defects.is_empty() {
                    "onshi-reference-client".into()
                } else {
                    format!("onshi-reference-client --defect {}", defects.join(","))
                },
                version: env!("CARGO_PKG_VERSION").into(),
                timeout_ms: self.options.declare_timeout.then_some(self.options.timeout_ms),
            },
            capabilities,
        })
    }
}

fn call<P: DeserializeOwned, R: Serialize>(
    params: Value,
    f: impl FnOnce(P) -> Result<R, (i64, String)>,
) -> Result<Value, (i64, String)> {
    let p: P = serde_json::from_value(params).map_err(|e| (error_code::INVALID_PARAMS, format!("bad params: {e}")))?;
    let r = f(p)?;
    serde_json::to_value(r).map_err(|e| (error_code::INTERNAL_ERROR, e.to_string()))
}

fn ok(id: Value, result: &impl Serialize) -> RpcResponse {
    RpcResponse {
        jsonrpc: "2.0".into(),
        id,
        result: Some(serde_json::to_value(result).expect("serialisable")),
        error: None,
    }
}

fn error(id: Value, code: i64, message: String) -> RpcResponse {
    RpcResponse {
        jsonrpc: "2.0".into(),
        id,
        result: None,
        error: Some(RpcError {
            code,
            message,
            data: None,
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn exchange(lines: &[&str]) -> Vec<Value> {
        let input = lines.join("\n");
        let mut out = Vec::new();
        Adapter::new(Options::default())
            .serve(input.as_bytes(), &mut out)
            .unwrap();
        String::from_utf8(out)
            .unwrap()
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect()
    }

    #[test]
    fn bad_input_gets_json_rpc_errors_and_the_loop_goes_on() {
        let answers = exchange(&[
            "this is not json",
            r#"{"jsonrpc":"2.0","id":1,"method":"confirm_qualification","params":{"via":"file","card":{"insurer_number":"06990012","number":"1","birthdate":"19700101"},"consent_limit_certificate":false}}"#,
            r#"{"jsonrpc":"2.0","id":2,"method":"fly"}"#,
            r#"{"jsonrpc":"2.0","id":3,"method":"initialize","params":{"protocol":"onshi-driver/9"}}"#,
            r#"{"jsonrpc":"2.0","id":4,"method":"shutdown"}"#,
            r#"{"jsonrpc":"2.0","id":5,"method":"reset"}"#,
        ]);
        assert_eq!(answers.len(), 5, "nothing is answered after shutdown: {answers:?}");
        assert_eq!(answers[0]["error"]["code"], error_code::PARSE_ERROR);
        assert_eq!(answers[0]["id"], Value::Null);
        assert_eq!(answers[1]["error"]["code"], NOT_INITIALIZED);
        assert_eq!(answers[2]["error"]["code"], error_code::METHOD_NOT_FOUND);
        assert_eq!(answers[3]["error"]["code"], error_code::INVALID_PARAMS);
        assert_eq!(answers[4]["result"], serde_json::json!({}));
    }

    #[test]
    fn initialize_declares_the_capabilities_and_the_defects() {
        let mut out = Vec::new();
        let init = r#"{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocol":"onshi-driver/1","harness":{"name":"h","version":"0"},"environment":{"institution_code":"9900000001","terminal":{"root":"/t","req":"/t/req","res":"/t/res","face":"/t/face"}}}}"#;
        let options = Options {
            defects: vec![crate::Defect::NoTimeout],
            ..Options::default()
        };
        Adapter::new(options).serve(init.as_bytes(), &mut out).unwrap();
        let answer: Value = serde_json::from_slice(&out).unwrap();
        assert_eq!(
            answer["result"]["capabilities"],
            serde_json::json!([
                "file.qualification",
                "file.face",
                "file.reference-number",
                "file.bulk-qualification",
                "file.bulk-pull",
                "file.medical-info"
            ])
        );
        assert!(
            answer["result"]["client"]["name"]
                .as_str()
                .unwrap()
                .contains("no-timeout")
        );
    }
}
