//! The card's APDU state machine: power, selection, security state and PIN counters, and the
//! commands a My Number card answers (card.md §2–8). Every frame gets a status word; nothing
//! here panics on input.

use std::sync::Arc;

use rand_chacha::ChaCha20Rng;
use rand_chacha::rand_core::{RngCore, SeedableRng};
use sha2::{Digest, Sha256};

use crate::apdu::{self, Class, Command};
use crate::chip::{App, Body, Chip, KeyUse, PinId, PinState};
use crate::image::CardImage;
use crate::sw::Sw;

/// Behaviour the public sources leave open (card.md §3.3 and §8); the defaults follow what
/// was observed on real cards.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CardOptions {
    /// A warm reset keeps verified PINs (reported for a real card). Power-off always clears.
    pub keep_verified_on_reset: bool,
    /// Selecting another AP clears the verified state (unknown on real cards; off by default).
    pub clear_verified_on_select: bool,
    /// The retry query answers `90 00` instead of `63 Cx` while the PIN is verified (some
    /// cards, per one source).
    pub query_ok_when_verified: bool,
}

impl Default for CardOptions {
    fn default() -> Self {
        CardOptions {
            keep_verified_on_reset: true,
            clear_verified_on_select: false,
            query_ok_when_verified: false,
        }
    }
}

/// A response APDU.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Response {
    /// The response data.
    pub data: Vec<u8>,
    /// The status word.
    pub sw: Sw,
}

impl Response {
    /// A response with no data.
    pub fn sw(sw: Sw) -> Response {
        Response { data: Vec::new(), sw }
    }

    fn ok(data: Vec<u8>) -> Response {
        Response { data, sw: Sw::OK }
    }

    /// The response as sent: data, then SW1 SW2.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(self.data.len() + 2);
        out.extend_from_slice(&self.data);
        out.extend(self.sw.bytes());
        out
    }
}

impl From<Sw> for Response {
    fn from(sw: Sw) -> Response {
        Response::sw(sw)
    }
}

type Answer = Result<Response, Sw>;

/// One virtual My Number card.
#[derive(Debug, Clone)]
pub struct Card {
    chip: Arc<Chip>,
    pins: Vec<PinState>,
    options: CardOptions,
    powered: bool,
    app: Option<App>,
    ef: Option<usize>,
    verified: Vec<bool>,
    rng: ChaCha20Rng,
}

impl Card {
    /// A card powered off, from its image.
    pub fn new(image: &CardImage) -> Card {
        Card::from_chip(Arc::new(Chip::build(image)), image.card_serial.parse().unwrap_or(0))
    }

    /// A card on an already built chip; `seed` drives GET CHALLENGE.
    pub fn from_chip(chip: Arc<Chip>, seed: u64) -> Card {
        let pins = chip.pins.clone();
        Card {
            verified: vec![false; pins.len()],
            pins,
            chip,
            options: CardOptions::default(),
            powered: false,
            app: None,
            ef: None,
            rng: ChaCha20Rng::seed_from_u64(seed),
        }
    }

    /// The card with these options.
    pub fn with_options(mut self, options: CardOptions) -> Card {
        self.options = options;
        self
    }

    /// Its answer to reset.
    pub fn atr(&self) -> &[u8] {
        &self.chip.atr
    }

    /// Its chip (files, PINs, keys).
    pub fn chip(&self) -> &Chip {
        &self.chip
    }

    /// PIN states with their current counters.
    pub fn pins(&self) -> &[PinState] {
        &self.pins
    }

    /// Sets a PIN's counter (scenario set-up: "the patient has one try left").
    pub fn set_tries_left(&mut self, pin: PinId, tries: u8) {
        if let Some(p) = self.pins.get_mut(pin) {
            p.tries_left = tries.min(p.max_tries);
        }
    }

    /// Whether PIN `pin` is verified in this session.
    pub fn is_verified(&self, pin: PinId) -> bool {
        self.verified.get(pin).copied().unwrap_or(false)
    }

    /// Whether the card is powered.
    pub fn powered(&self) -> bool {
        self.powered
    }

    /// Powers the card on (a new session).
    pub fn power_on(&mut self) {
        self.powered = true;
        self.app = None;
        self.ef = None;
    }

    /// Power-off wipes the security state; PIN counters are in non-volatile memory and stay.
    pub fn power_off(&mut self) {
        self.powered = false;
        self.app = None;
        self.ef = None;
        self.verified.fill(false);
    }

    /// A warm reset: the session's verified PINs are forgotten.
    pub fn reset(&mut self) {
        self.power_on();
        if !self.options.keep_verified_on_reset {
            self.verified.fill(false);
        }
    }

    /// Answers one command APDU (response data followed by SW1 SW2).
    pub fn transmit(&mut self, frame: &[u8]) -> Response {
        if !self.powered {
            self.power_on();
        }
        let cmd = match apdu::parse(frame) {
            Ok(cmd) => cmd,
            Err(e) => return e.sw().into(),
        };
        self.execute(&cmd).unwrap_or_else(Response::sw)
    }

    fn execute(&mut self, cmd: &Command<'_>) -> Answer {
        let class = Class::decode(cmd.cla)?;
        if class.channel != 0 {
            return Err(Sw::CHANNEL_NOT_SUPPORTED);
        }
        if class.secure_messaging {
            return Err(Sw::SM_NOT_SUPPORTED);
        }
        if class.chained {
            return Err(Sw::CHAINING_NOT_SUPPORTED);
        }
        match (class.proprietary, cmd.ins) {
            (false, 0xA4) => self.select(cmd),
            (false, 0xB0) => self.read_binary(cmd),
            (false, 0xB2) => self.read_record(cmd),
            (false, 0x20) => self.verify(cmd),
            (false, 0x24) => self.change_pin(cmd, 0x01),
            (false, 0x84) => self.get_challenge(cmd),
            (false, 0x88) => self.internal_authenticate(cmd),
            (false, 0xCA) => self.get_data(cmd),
            (false, 0x70) => Err(Sw::CHANNEL_NOT_SUPPORTED),
            (true, 0x2A) => self.sign(cmd),
            (true, 0x32) => self.change_pin(cmd, 0x00),
            (true, 0xAE) => self.set_session_key(),
            (_, 0xA4 | 0xB0 | 0xB2 | 0x20 | 0x24 | 0x84 | 0x88 | 0xCA | 0x70 | 0x2A | 0x32 | 0xAE) => {
                Err(Sw::CLA_NOT_SUPPORTED)
            }
            _ => Err(Sw::INS_NOT_SUPPORTED),
        }
    }

    fn select(&mut self, cmd: &Command<'_>) -> Answer {
        match (cmd.p1, cmd.p2) {
            (0x04, 0x0C) => {
                if cmd.data.is_empty() {
                    return Err(Sw::WRONG_LENGTH);
                }
                let app = App::ALL
                    .into_iter()
                    .find(|a| a.aid() == cmd.data)
                    .ok_or(Sw::NOT_FOUND)?;
                if !self.chip.files.iter().any(|f| f.app == app) && app != App::Isd {
                    return Err(Sw::NOT_FOUND);
                }
                if self.options.clear_verified_on_select && self.app != Some(app) {
                    self.verified.fill(false);
                }
                self.app = Some(app);
                self.ef = None;
                Ok(Response::ok(Vec::new()))
            }
            (0x02, 0x0C) => {
                let [hi, lo] = cmd.data else {
                    return Err(Sw::WRONG_LENGTH);
                };
                let app = self.app.ok_or(Sw::NOT_FOUND)?;
                let ef = self
                    .chip
                    .find(app, u16::from_be_bytes([*hi, *lo]))
                    .ok_or(Sw::NOT_FOUND)?;
                self.ef = Some(ef);
                Ok(Response::ok(Vec::new()))
            }
            // "select MF": refused right after reset, a no-op with an AP current (card.md §1)
            (0x00, 0x00 | 0x0C) if cmd.data.is_empty() || cmd.data == [0x3F, 0x00] => match self.app {
                None => Err(Sw::WRONG_P1P2),
                Some(_) => Ok(Response::ok(Vec::new())),
            },
            _ => Err(Sw::WRONG_P1P2),
        }
    }

    /// The EF a command names: the current EF (`reference` = None) or one by short EF id.
    fn target(&mut self, sfi: Option<u8>) -> Result<usize, Sw> {
        match sfi {
            None => self.ef.ok_or(Sw::NO_CURRENT_EF),
            Some(sfi) => {
                let app = self.app.ok_or(Sw::NOT_FOUND)?;
                let ef = self.chip.find(app, u16::from(sfi)).ok_or(Sw::NOT_FOUND)?;
                self.ef = Some(ef);
                Ok(ef)
            }
        }
    }

    /// P2 of VERIFY / CHANGE / signing: `80` = the current EF, `81..9E` = by short EF id.
    fn key_reference(&mut self, p2: u8) -> Result<usize, Sw> {
        match p2 {
            0x80 => self.target(None),
            0x81..=0x9E => self.target(Some(p2 & 0x1F)).map_err(|_| Sw::REFERENCE_NOT_FOUND),
            _ => Err(Sw::WRONG_P1P2),
        }
    }

    fn pin_of(&self, ef: usize) -> Result<PinId, Sw> {
        match self.chip.files[ef].body {
            Body::Pin(pin) => Ok(pin),
            _ => Err(Sw::REFERENCE_NOT_FOUND),
        }
    }

    fn readable(&self, ef: usize) -> Result<&[u8], Sw> {
        match &self.chip.files[ef].body {
            Body::Binary { data, read } => match read {
                crate::chip::Access::Free => Ok(data),
                crate::chip::Access::AnyOf(pins) if pins.iter().any(|p| self.verified[*p]) => Ok(data),
                crate::chip::Access::AnyOf(_) => Err(Sw::SECURITY_NOT_SATISFIED),
            },
            _ => Err(Sw::NOT_ALLOWED_FOR_EF),
        }
    }

    fn read_binary(&mut self, cmd: &Command<'_>) -> Answer {
        let le = no_data_with_le(cmd)?;
        let (ef, offset) = if cmd.p1 & 0x80 != 0 {
            if cmd.p1 & 0x60 != 0 || cmd.p1 & 0x1F == 0 {
                return Err(Sw::WRONG_P1P2);
            }
            (self.target(Some(cmd.p1 & 0x1F))?, usize::from(cmd.p2))
        } else {
            (self.target(None)?, usize::from(u16::from_be_bytes([cmd.p1, cmd.p2])))
        };
        let data = self.readable(ef)?;
        if offset >= data.len() {
            return Err(Sw::OFFSET_OUTSIDE_EF);
        }
        let end = data.len().min(offset + le);
        Ok(Response::ok(data[offset..end].to_vec()))
    }

    fn read_record(&mut self, cmd: &Command<'_>) -> Answer {
        let le = no_data_with_le(cmd)?;
        if cmd.p1 == 0 || cmd.p2 & 0x07 != 0x04 {
            return Err(Sw::WRONG_P1P2);
        }
        let sfi = cmd.p2 >> 3;
        let ef = self.target((sfi != 0).then_some(sfi))?;
        let Body::Records(records) = &self.chip.files[ef].body else {
            return Err(Sw::NOT_ALLOWED_FOR_EF);
        };
        let record = records.get(usize::from(cmd.p1) - 1).ok_or(Sw::RECORD_NOT_FOUND)?;
        Ok(Response::ok(record[..record.len().min(le)].to_vec()))
    }

    fn verify(&mut self, cmd: &Command<'_>) -> Answer {
        if cmd.p1 != 0x00 {
            return Err(Sw::WRONG_P1P2);
        }
        let ef = self.key_reference(cmd.p2)?;
        let id = self.pin_of(ef)?;
        let verified = self.verified[id];
        let pin = &mut self.pins[id];
        if cmd.data.is_empty() {
            // the retry query: never uses up a try
            return Err(match () {
                _ if pin.blocked() => Sw::tries_left(0),
                _ if verified && self.options.query_ok_when_verified => return Ok(Response::ok(Vec::new())),
                _ => Sw::tries_left(pin.tries_left),
            });
        }
        if pin.blocked() {
            return Err(Sw::REFERENCE_DATA_BLOCKED);
        }
        if pin.value.as_deref() == Some(cmd.data) {
            pin.tries_left = pin.max_tries;
            self.verified[id] = true;
            Ok(Response::ok(Vec::new()))
        } else {
            pin.tries_left -= 1;
            self.verified[id] = false;
            Err(Sw::tries_left(pin.tries_left))
        }
    }

    /// CHANGE REFERENCE DATA (`00 24 01 80`, JPKI and 入力補助 PINs) and CHANGE KEY
    /// (`80 32 00 80`, 住基 PIN), both after VERIFY of the old value.
    fn change_pin(&mut self, cmd: &Command<'_>, p1: u8) -> Answer {
        if cmd.p1 != p1 {
            return Err(Sw::WRONG_P1P2);
        }
        let ef = self.key_reference(cmd.p2)?;
        let id = self.pin_of(ef)?;
        let juki = self.pins[id].app == App::Juki;
        if juki != (cmd.ins == 0x32) {
            return Err(Sw::CONDITIONS_NOT_SATISFIED);
        }
        if self.pins[id].blocked() {
            return Err(Sw::REFERENCE_DATA_BLOCKED);
        }
        if !self.verified[id] {
            return Err(Sw::SECURITY_NOT_SATISFIED);
        }
        if !self.pins[id].format.accepts(cmd.data) {
            return Err(if cmd.data.is_empty() {
                Sw::WRONG_LENGTH
            } else {
                Sw::WRONG_DATA
            });
        }
        self.pins[id].value = Some(cmd.data.to_vec());
        Ok(Response::ok(Vec::new()))
    }

    /// COMPUTE DIGITAL SIGNATURE (`80 2A`): PKCS#1 v1.5 with the card doing the padding.
    fn sign(&mut self, cmd: &Command<'_>) -> Answer {
        if cmd.p1 > 0x03 {
            return Err(Sw::WRONG_P1P2);
        }
        let key = match (cmd.p2, self.app) {
            (0x00, Some(App::Text)) => 0,
            (0x00, _) => return Err(Sw::WRONG_P1P2),
            (p2, _) => {
                let ef = self.key_reference(p2)?;
                match self.chip.files[ef].body {
                    Body::Key {
                        key,
                        needs,
                        usage: KeyUse::Jpki,
                    } => {
                        if needs.is_some_and(|pin| !self.verified[pin]) {
                            return Err(Sw::SECURITY_NOT_SATISFIED);
                        }
                        key
                    }
                    Body::Key { .. } => return Err(Sw::CONDITIONS_NOT_SATISFIED),
                    _ => return Err(Sw::REFERENCE_NOT_FOUND),
                }
            }
        };
        if matches!(cmd.le, Some(le) if le < 256) {
            return Err(Sw::WRONG_LENGTH);
        }
        let key = &self.chip.keys[key];
        let padded = |data: &[u8], prefixed: bool| {
            let scheme = if prefixed {
                rsa::Pkcs1v15Sign::new::<Sha256>()
            } else {
                rsa::Pkcs1v15Sign::new_unprefixed()
            };
            key.sign(scheme, data).map_err(|_| Sw::WRONG_LENGTH)
        };
        let signature = match cmd.p1 {
            // the data as given (normally a DigestInfo), up to k - 11 bytes
            0x00 if (1..=245).contains(&cmd.data.len()) => padded(cmd.data, false)?,
            // the card hashes, signs the bare hash
            0x01 if !cmd.data.is_empty() => padded(&Sha256::digest(cmd.data), false)?,
            // a SHA-256 hash the card wraps in a DigestInfo
            0x02 if cmd.data.len() == 32 => padded(cmd.data, true)?,
            // the card hashes and wraps
            0x03 if !cmd.data.is_empty() => padded(&Sha256::digest(cmd.data), true)?,
            // P1 above 03 was refused before the key was looked at
            _ => return Err(Sw::WRONG_LENGTH),
        };
        Ok(Response::ok(signature))
    }

    fn get_challenge(&mut self, cmd: &Command<'_>) -> Answer {
        if (cmd.p1, cmd.p2) != (0, 0) {
            return Err(Sw::WRONG_P1P2);
        }
        let le = no_data_with_le(cmd)?;
        if le > 256 {
            return Err(Sw::WRONG_LENGTH);
        }
        let mut out = vec![0; le];
        self.rng.fill_bytes(&mut out);
        Ok(Response::ok(out))
    }

    fn internal_authenticate(&mut self, cmd: &Command<'_>) -> Answer {
        if cmd.p1 != 0 {
            return Err(Sw::WRONG_P1P2);
        }
        if cmd.data.is_empty() {
            return Err(Sw::WRONG_LENGTH);
        }
        let ef = self.key_reference(cmd.p2)?;
        match self.chip.files[ef].body {
            Body::Key {
                key,
                usage: KeyUse::InternalAuth,
                ..
            } => {
                let digest = Sha256::digest(cmd.data);
                let signature = self.chip.keys[key]
                    .sign(rsa::Pkcs1v15Sign::new::<Sha256>(), &digest)
                    .map_err(|_| Sw::WRONG_LENGTH)?;
                Ok(Response::ok(signature))
            }
            Body::Key { needs: Some(pin), .. } if !self.verified[pin] => Err(Sw::SECURITY_NOT_SATISFIED),
            Body::Key { .. } => Err(Sw::CONDITIONS_NOT_SATISFIED),
            _ => Err(Sw::REFERENCE_NOT_FOUND),
        }
    }

    /// GET DATA at MF level: only the contact ATR (`5F51`, without TS) is emulated.
    fn get_data(&mut self, cmd: &Command<'_>) -> Answer {
        let le = no_data_with_le(cmd)?;
        match (self.app, cmd.p1, cmd.p2) {
            (None | Some(App::Isd), 0x5F, 0x51) => {
                let atr = &self.chip.atr[1..];
                Ok(Response::ok(atr[..atr.len().min(le)].to_vec()))
            }
            _ => Err(Sw::REFERENCE_NOT_FOUND),
        }
    }

    /// SET SESSION KEY: secure messaging is not emulated; the answers outside the 入力補助AP
    /// are the ones real cards give.
    fn set_session_key(&mut self) -> Answer {
        match self.app {
            Some(App::Surface | App::Common) => Err(Sw::SESSION_KEY_NOT_SUPPORTED),
            Some(App::Jpki | App::Juki) => Err(Sw::SECURITY_NOT_SATISFIED),
            Some(App::Text) if !self.verified[crate::chip::PIN_TEXT] => Err(Sw::SECURITY_NOT_SATISFIED),
            _ => Err(Sw::CONDITIONS_NOT_SATISFIED),
        }
    }
}

/// Commands that read: no data field, an Le.
fn no_data_with_le(cmd: &Command<'_>) -> Result<usize, Sw> {
    match cmd.le {
        Some(le) if cmd.data.is_empty() => Ok(le),
        _ => Err(Sw::WRONG_LENGTH),
    }
}
