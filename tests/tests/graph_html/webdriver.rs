//! Just enough of a WebDriver client to drive headless Chromium through
//! chromedriver: plain HTTP/1.1 over a TcpStream, JSON bodies.

use serde_json::{json, Value};
use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// The key WebDriver uses for an element reference.
const ELEMENT: &str = "element-6066-11e4-a52e-4f735466cecf";

/// The Chromium flags of the acceptance tests, but the window's
/// size.
const CHROMIUM_FLAGS: [&str; 5] = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--no-first-run",
    "--disable-background-networking",
];

/// A running chromedriver, stopped when dropped.
pub struct Driver {
    process: Child,
    port: u16,
}

impl Driver {
    pub fn start(chromedriver: &str) -> Driver {
        let port = TcpListener::bind("127.0.0.1:0")
            .and_then(|listener| listener.local_addr())
            .expect("a free local port")
            .port();
        let process = Command::new(chromedriver)
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("chromedriver starts");
        let driver = Driver { process, port };
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            if let Ok(status) = driver.call("GET", "/status", None) {
                if status["ready"] == true {
                    return driver;
                }
            }
            assert!(
                Instant::now() < deadline,
                "chromedriver did not get ready in 20 s"
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// A new headless Chromium session showing pages in `width` x `height`
    /// pixels, that keeps the browser's console.
    pub fn session(&self, chromium: &str, (width, height): (u32, u32)) -> Session<'_> {
        let mut args: Vec<String> = CHROMIUM_FLAGS.iter().map(|flag| flag.to_string()).collect();
        args.push(format!("--window-size={width},{height}"));
        let capabilities = json!({"capabilities": {"alwaysMatch": {
            "browserName": "chrome",
            "goog:chromeOptions": {"binary": chromium, "args": args},
            "goog:loggingPrefs": {"browser": "ALL"},
        }}});
        let created = self
            .call("POST", "/session", Some(&capabilities))
            .unwrap_or_else(|error| panic!("no Chromium session: {error}"));
        let id = created["sessionId"]
            .as_str()
            .expect("a session id")
            .to_string();
        let session = Session { driver: self, id };
        // --window-size counts the browser's own bars: grow the window by
        // them so that the page gets the size asked for.
        let bars = session.run(
            "return [window.outerWidth - window.innerWidth, window.outerHeight - window.innerHeight]",
            json!([]),
        );
        let bar = |at: usize| u32::try_from(bars[at].as_u64().unwrap_or(0)).unwrap_or(0);
        session.call(
            "POST",
            "/window/rect",
            Some(json!({"width": width + bar(0), "height": height + bar(1)})),
        );
        session
    }

    /// One WebDriver command: its `value`, or the error WebDriver reports.
    fn call(&self, method: &str, path: &str, body: Option<&Value>) -> Result<Value, String> {
        let mut stream = TcpStream::connect(("127.0.0.1", self.port)).map_err(|e| e.to_string())?;
        stream
            .set_read_timeout(Some(Duration::from_secs(60)))
            .map_err(|e| e.to_string())?;
        let body = body.map(Value::to_string).unwrap_or_default();
        let request = format!(
            "{method} {path} HTTP/1.1\r\nHost: 127.0.0.1:{}\r\nConnection: close\r\n\
             Content-Type: application/json; charset=utf-8\r\nContent-Length: {}\r\n\r\n{body}",
            self.port,
            body.len()
        );
        stream
            .write_all(request.as_bytes())
            .map_err(|e| e.to_string())?;
        let (head, body) = read_response(&mut stream)?;
        let status = head.split(' ').nth(1).unwrap_or_default();
        let document: Value = serde_json::from_str(&body)
            .map_err(|error| format!("{method} {path}: {error} in {body}"))?;
        if status == "200" {
            Ok(document["value"].clone())
        } else {
            Err(format!(
                "{method} {path}: HTTP {status}: {}",
                document["value"]
            ))
        }
    }
}

/// The head and body of an HTTP response, read up to its Content-Length
/// (chromedriver keeps the connection open).
fn read_response(stream: &mut TcpStream) -> Result<(String, String), String> {
    let mut response = Vec::new();
    let mut buffer = [0u8; 65536];
    loop {
        let read = stream.read(&mut buffer).map_err(|e| e.to_string())?;
        response.extend_from_slice(&buffer[..read]);
        let text = String::from_utf8_lossy(&response);
        if let Some((head, body)) = text.split_once("\r\n\r\n") {
            let length = head.lines().find_map(|line| {
                let (name, value) = line.split_once(':')?;
                name.eq_ignore_ascii_case("content-length")
                    .then(|| value.trim().parse::<usize>().ok())?
            });
            if read == 0 || length.is_some_and(|length| body.len() >= length) {
                return Ok((head.to_string(), body.to_string()));
            }
        } else if read == 0 {
            return Err(format!("not an HTTP response: {text}"));
        }
    }
}

impl Drop for Driver {
    fn drop(&mut self) {
        let _ = self.process.kill();
        let _ = self.process.wait();
    }
}

/// A browser session, closed when dropped.
pub struct Session<'a> {
    driver: &'a Driver,
    id: String,
}

impl Session<'_> {
    fn call(&self, method: &str, command: &str, body: Option<Value>) -> Value {
        let path = format!("/session/{}{command}", self.id);
        self.driver
            .call(method, &path, body.as_ref())
            .unwrap_or_else(|error| panic!("{error}"))
    }

    pub fn open(&self, url: &str) {
        self.call("POST", "/url", Some(json!({ "url": url })));
    }

    /// Runs `script` (a function body; `arguments` holds `args`) in the page.
    pub fn run(&self, script: &str, args: Value) -> Value {
        self.call(
            "POST",
            "/execute/sync",
            Some(json!({"script": script, "args": args})),
        )
    }

    /// The first element matching a CSS selector.
    pub fn find(&self, selector: &str) -> String {
        let found = self.call(
            "POST",
            "/element",
            Some(json!({"using": "css selector", "value": selector})),
        );
        found[ELEMENT].as_str().expect("an element").to_string()
    }

    pub fn type_into(&self, element: &str, text: &str) {
        self.call(
            "POST",
            &format!("/element/{element}/value"),
            Some(json!({ "text": text })),
        );
    }

    pub fn clear(&self, element: &str) {
        self.call(
            "POST",
            &format!("/element/{element}/clear"),
            Some(json!({})),
        );
    }

    pub fn click(&self, element: &str) {
        self.call(
            "POST",
            &format!("/element/{element}/click"),
            Some(json!({})),
        );
    }

    /// Turns the mouse wheel by `delta_y` pixels over the element's center.
    pub fn wheel(&self, element: &str, delta_y: i64) {
        let origin = json!({ ELEMENT: element });
        self.actions(json!([{"type": "wheel", "id": "wheel", "actions": [
            {"type": "scroll", "origin": origin, "x": 0, "y": 0, "deltaX": 0, "deltaY": delta_y},
        ]}]));
    }

    /// Presses the mouse at the element's center, moves it by (dx, dy) in
    /// steps, and releases it.
    pub fn drag(&self, element: &str, dx: i64, dy: i64) {
        let origin = json!({ ELEMENT: element });
        let mut steps = vec![
            json!({"type": "pointerMove", "origin": origin, "x": 0, "y": 0}),
            json!({"type": "pointerDown", "button": 0}),
        ];
        for _ in 0..4 {
            steps.push(json!({"type": "pointerMove", "origin": "pointer", "x": dx / 4, "y": dy / 4, "duration": 20}));
        }
        steps.push(json!({"type": "pointerUp", "button": 0}));
        self.actions(json!([{"type": "pointer", "id": "mouse",
            "parameters": {"pointerType": "mouse"}, "actions": steps}]));
    }

    fn actions(&self, sources: Value) {
        self.call("POST", "/actions", Some(json!({ "actions": sources })));
        self.call("DELETE", "/actions", None);
    }

    pub fn text(&self, element: &str) -> String {
        let text = self.call("GET", &format!("/element/{element}/text"), None);
        text.as_str().unwrap_or_default().to_string()
    }

    /// The browser console's messages since the last call: (level, message).
    pub fn console(&self) -> Vec<(String, String)> {
        let entries = self.call("POST", "/se/log", Some(json!({"type": "browser"})));
        entries
            .as_array()
            .into_iter()
            .flatten()
            .map(|entry| {
                (
                    entry["level"].as_str().unwrap_or_default().to_string(),
                    entry["message"].as_str().unwrap_or_default().to_string(),
                )
            })
            .collect()
    }

    /// A PNG of the window.
    pub fn screenshot(&self) -> Vec<u8> {
        let encoded = self.call("GET", "/screenshot", None);
        decode_base64(encoded.as_str().expect("base64 text"))
    }
}

impl Drop for Session<'_> {
    fn drop(&mut self) {
        let _ = self
            .driver
            .call("DELETE", &format!("/session/{}", self.id), None);
    }
}

fn decode_base64(text: &str) -> Vec<u8> {
    let value = |byte: u8| match byte {
        b'A'..=b'Z' => byte - b'A',
        b'a'..=b'z' => byte - b'a' + 26,
        b'0'..=b'9' => byte - b'0' + 52,
        b'+' => 62,
        b'/' => 63,
        _ => panic!("not base64: {byte}"),
    };
    let digits: Vec<u8> = text
        .bytes()
        .filter(|byte| !byte.is_ascii_whitespace() && *byte != b'=')
        .map(value)
        .collect();
    let mut bytes = Vec::with_capacity(digits.len() * 3 / 4);
    for chunk in digits.chunks(4) {
        let bits = chunk.iter().enumerate().fold(0u32, |bits, (i, &digit)| {
            bits | (u32::from(digit) << (18 - 6 * i))
        });
        bytes.extend_from_slice(&bits.to_be_bytes()[1..chunk.len()]);
    }
    bytes
}
