//! The field page at phone size, played by hand: the seed's lamp-post story from the grid
//! worker's report with a photo, through the centre's dispatch and the department's fix, to
//! the worker's check on site and the closed case.

use fantoccini::Locator;
use serde_json::Value;
use std::path::{Path, PathBuf};
use tests::browser::Browser;
use tests::server::Server;

pub(crate) const PASSWORD: &str = "field-test-password";

/// A real PNG of 8 × 8 pixels of one colour: a zlib stream of one stored block, so that no
/// compressor is needed, with the chunks' CRCs.
pub(crate) fn png(rgb: [u8; 3]) -> Vec<u8> {
    const SIDE: u32 = 8;
    // Each row: filter type 0, then the pixels.
    let row: Vec<u8> = std::iter::once(0)
        .chain(rgb.iter().copied().cycle().take(3 * SIDE as usize))
        .collect();
    let raw = row.repeat(SIDE as usize);
    let len = raw.len() as u16;
    let mut zlib = vec![0x78, 0x01, 0x01];
    zlib.extend_from_slice(&len.to_le_bytes());
    zlib.extend_from_slice(&(!len).to_le_bytes());
    zlib.extend_from_slice(&raw);
    let (mut a, mut b) = (1_u32, 0_u32);
    for byte in &raw {
        a = (a + u32::from(*byte)) % 65_521;
        b = (b + a) % 65_521;
    }
    zlib.extend_from_slice(&((b << 16) | a).to_be_bytes());
    let mut header = Vec::new();
    header.extend_from_slice(&SIDE.to_be_bytes());
    header.extend_from_slice(&SIDE.to_be_bytes());
    header.extend_from_slice(&[8, 2, 0, 0, 0]);
    let mut out = b"\x89PNG\r\n\x1a\n".to_vec();
    for (kind, data) in [(b"IHDR", header), (b"IDAT", zlib), (b"IEND", Vec::new())] {
        out.extend_from_slice(&(data.len() as u32).to_be_bytes());
        let chunk = [kind.as_slice(), &data].concat();
        out.extend_from_slice(&chunk);
        out.extend_from_slice(&crc32(&chunk).to_be_bytes());
    }
    out
}

fn crc32(bytes: &[u8]) -> u32 {
    let mut crc = !0_u32;
    for &byte in bytes {
        crc ^= u32::from(byte);
        for _ in 0..8 {
            crc = if crc & 1 == 1 {
                (crc >> 1) ^ 0xEDB8_8320
            } else {
                crc >> 1
            };
        }
    }
    !crc
}

/// Writes a photo into `dir` and returns its absolute path, as a file input takes it.
fn photo_file(dir: &Path, name: &str, rgb: [u8; 3]) -> String {
    let path: PathBuf = dir.join(name);
    std::fs::write(&path, png(rgb)).expect("write a photo");
    path.canonicalize()
        .expect("an absolute path")
        .display()
        .to_string()
}

async fn choose(browser: &Browser, css: &str, value: &str) {
    browser
        .wait_for(&format!("{css} option[value=\"{value}\"]"))
        .await;
    browser
        .client
        .find(Locator::Css(css))
        .await
        .expect("the select")
        .select_by_value(value)
        .await
        .unwrap_or_else(|err| panic!("cannot choose `{value}` in `{css}`: {err}"));
}

async fn sign_in(browser: &Browser, login: &str) {
    browser
        .type_into("[data-testid=\"field-login-name\"]", login)
        .await;
    browser
        .type_into("[data-testid=\"field-login-password\"]", PASSWORD)
        .await;
    browser.click("[data-testid=\"field-login-submit\"]").await;
    browser
        .wait_for(&format!(
            "[data-testid=\"field-account\"][data-login=\"{login}\"]"
        ))
        .await;
}

async fn sign_out(browser: &Browser) {
    browser.click("[data-testid=\"field-logout\"]").await;
    browser.wait_for("[data-testid=\"field-login\"]").await;
}

/// Opens case `id` from the signed-in caller's list.
async fn open_case(browser: &Browser, id: i64) {
    browser
        .click(&format!(
            "[data-testid=\"field-case\"][data-case-id=\"{id}\"] button"
        ))
        .await;
    browser
        .wait_for(&format!(
            "[data-testid=\"field-detail\"][data-case-id=\"{id}\"]"
        ))
        .await;
}

/// Makes `action` on the open case, with a photo when one is given, and waits for `state`.
async fn make(browser: &Browser, action: &str, photo: Option<&str>, state: &str) {
    if let Some(path) = photo {
        browser
            .type_into("[data-testid=\"field-move-photo\"]", path)
            .await;
    }
    browser
        .click(&format!("[data-testid=\"field-move-{action}\"]"))
        .await;
    browser
        .wait_for(&format!(
            "[data-testid=\"field-detail\"][data-state=\"{state}\"]"
        ))
        .await;
}

/// The page fits a phone's width: nothing sticks out sideways.
async fn fits(browser: &Browser) {
    let overflow = browser
        .eval("return document.documentElement.scrollWidth - window.innerWidth;")
        .await;
    assert!(
        overflow.as_i64().unwrap_or(1) <= 0,
        "the page is wider than the phone by {overflow} px"
    );
}

#[tokio::test]
async fn the_lamp_post_story_is_played_by_hand_on_a_phone() {
    let dir = tempfile::tempdir().expect("temporary directory");
    let server = Server::start_demo(&dir, |mut c| {
        c.demo_city = backend::demo::DemoCity::Full;
        c.demo_password = Some(PASSWORD.to_owned());
        c
    })
    .await;
    let photos = tempfile::tempdir().expect("photo directory");
    let before = photo_file(photos.path(), "before.png", [200, 60, 40]);
    let after = photo_file(photos.path(), "after.png", [40, 160, 80]);
    let check = photo_file(photos.path(), "check.png", [40, 80, 200]);
    let browser = Browser::start(390, 844).await;
    browser
        .client
        .goto(&server.url("/field"))
        .await
        .expect("open the field page");

    // The grid worker sees the tilted lamp post and reports it with a photo.
    browser.wait_for("[data-testid=\"field-login\"]").await;
    fits(&browser).await;
    sign_in(&browser, "worker").await;
    browser.wait_for("[data-testid=\"field-report\"]").await;
    fits(&browser).await;
    choose(
        &browser,
        "[data-testid=\"field-category\"]",
        "municipal_facilities",
    )
    .await;
    choose(&browser, "[data-testid=\"field-sub-item\"]", "0801").await;
    browser
        .type_into("[data-testid=\"field-photo\"]", &before)
        .await;
    // Without a description the server refuses, and the page says what it said.
    browser.click("[data-testid=\"field-report-submit\"]").await;
    let error = browser.text("[data-testid=\"field-error\"]").await;
    assert!(
        error.starts_with("description:"),
        "the error shown: {error}"
    );
    browser
        .type_into(
            "[data-testid=\"field-description\"]",
            "路灯杆倾斜，存在安全隐患",
        )
        .await;
    browser.click("[data-testid=\"field-report-submit\"]").await;
    browser
        .wait_for("[data-testid=\"field-detail\"][data-state=\"reported\"]")
        .await;
    let id: i64 = browser
        .client
        .find(Locator::Css("[data-testid=\"field-detail\"]"))
        .await
        .expect("the case")
        .attr("data-case-id")
        .await
        .expect("its id")
        .and_then(|v| v.parse().ok())
        .expect("a case id");
    let notice = browser.text("[data-testid=\"field-notice\"]").await;
    assert!(notice.contains(&format!("#{id}")), "the notice: {notice}");
    browser
        .wait_for("[data-testid=\"field-photo-item\"][data-action=\"report\"] img")
        .await;
    // The report's own list shows it, waiting for a centre.
    browser.click("[data-testid=\"field-tab-cases\"]").await;
    browser
        .wait_for(&format!(
            "[data-testid=\"field-case\"][data-case-id=\"{id}\"][data-state=\"reported\"]"
        ))
        .await;
    sign_out(&browser).await;

    // The city centre dispatches it to the sub-item's department, D01.
    sign_in(&browser, "dispatcher").await;
    open_case(&browser, id).await;
    let department = browser.text("[data-testid=\"field-department\"]").await;
    assert!(!department.is_empty() && department != "—", "{department}");
    make(&browser, "dispatch", None, "dispatched").await;
    sign_out(&browser).await;

    // D01's staff accept it and resolve it; a resolution without its after photo is held
    // back by the page.
    sign_in(&browser, "staff-d01").await;
    open_case(&browser, id).await;
    make(&browser, "accept", None, "accepted").await;
    browser.click("[data-testid=\"field-move-resolve\"]").await;
    browser.wait_for("[data-testid=\"field-error\"]").await;
    make(&browser, "resolve", Some(&after), "resolved").await;
    sign_out(&browser).await;

    // The grid worker checks on site with a photo and closes the loop.
    sign_in(&browser, "worker").await;
    browser.click("[data-testid=\"field-tab-cases\"]").await;
    open_case(&browser, id).await;
    browser
        .wait_for("[data-testid=\"field-detail\"][data-state=\"resolved\"]")
        .await;
    make(&browser, "verify", Some(&check), "verified").await;
    make(&browser, "close", None, "closed").await;
    // All three photos are on the case, each loaded with the worker's token.
    browser
        .wait_until(
            "(() => { const imgs = [...document.querySelectorAll('[data-testid=\"field-photo-item\"] img')];
               return imgs.length === 3 && imgs.every(i => i.complete && i.naturalWidth === 8); })()",
        )
        .await;
    fits(&browser).await;
    browser.screenshot("field-390x844").await;

    // The server agrees: the case is closed with the three photos of its story.
    let case: Value = server.get_json(&format!("/api/cases/{id}")).await;
    assert_eq!(case["state"], "closed", "{case}");
    assert_eq!(case["sub_item"], "0801");
    assert_eq!(case["department"], "D01");
    let actions: Vec<&str> = case["photos"]
        .as_array()
        .expect("photos")
        .iter()
        .map(|p| p["action"].as_str().unwrap_or(""))
        .collect();
    assert_eq!(actions, ["report", "resolve", "verify"], "{case}");
    browser.close().await;
    server.stop().await;
}
