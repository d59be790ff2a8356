//! The wall when the server's disk fills up: it stays live, shows across the screen that
//! writes are failing and why, and clears the banner by itself when space returns.

use serde_json::json;
use std::path::PathBuf;
use std::process::Command;
use tests::browser::Browser;
use tests::server::Server;

const LIVE: &str = "[data-testid=\"link-status\"][data-state=\"live\"]";
const FAILING: &str = "[data-testid=\"writes-failing\"][data-trouble=\"disk_full\"]";

/// A small tmpfs, unmounted when dropped; mounting needs root, which CI runs the suite as.
struct SmallDisk {
    mount: PathBuf,
    _holder: tempfile::TempDir,
}

impl SmallDisk {
    fn mount(megabytes: u32) -> SmallDisk {
        let holder = tempfile::tempdir().expect("temporary directory");
        let mount = holder.path().join("disk");
        std::fs::create_dir(&mount).expect("mount point");
        let status = Command::new("mount")
            .args(["-t", "tmpfs", "-o", &format!("size={megabytes}m"), "tmpfs"])
            .arg(&mount)
            .status()
            .expect("run mount");
        assert!(
            status.success(),
            "cannot mount a tmpfs (this test needs root, as CI has; elsewhere skip it with \
             `--skip faults::`)"
        );
        SmallDisk {
            mount,
            _holder: holder,
        }
    }
}

impl Drop for SmallDisk {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg("-l").arg(&self.mount).status();
    }
}

#[tokio::test]
async fn a_full_disk_shows_on_the_wall_until_space_returns() {
    let disk = SmallDisk::mount(24);
    let dir = tempfile::tempdir_in(&disk.mount).expect("a directory on the small disk");
    let server = Server::start(&dir, |c| c).await;
    let browser = Browser::start(1920, 1080).await;
    browser
        .client
        .goto(&server.url("/"))
        .await
        .expect("open the wall");
    browser.wait_for(LIVE).await;
    assert!(
        browser
            .eval("return document.querySelector('[data-testid=\"writes-failing\"]') === null")
            .await
            .as_bool()
            .unwrap_or(false),
        "the banner shows while writes work"
    );

    // Fill the disk, then report until the server refuses.
    let filler = disk.mount.join("filler");
    {
        let mut file = std::fs::File::create(&filler).expect("filler");
        let block = vec![0_u8; 64 * 1024];
        while std::io::Write::write(&mut file, &block).is_ok_and(|n| n > 0) {}
    }
    let mut refused = None;
    for n in 0..5_000 {
        let res = server
            .http
            .post(server.url("/api/cases"))
            .json(&json!({
                "category": "municipal_facilities",
                "point": {"lon": 125.025, "lat": 46.585},
                "description": format!("磁盘写满 {n} {}", "井盖缺失，".repeat(300)),
            }))
            .send()
            .await
            .expect("POST /api/cases");
        if res.status() != 201 {
            refused = Some(res.status().as_u16());
            break;
        }
    }
    assert_eq!(refused, Some(503), "a full disk refuses reports with 503");
    browser.wait_for(FAILING).await;
    let banner = browser.text("[data-testid=\"writes-failing\"]").await;
    assert!(
        banner.contains("磁盘已满"),
        "the banner says why: `{banner}`"
    );
    // The wall is live all along: its figures are still served, only writes fail.
    browser.wait_for(LIVE).await;
    browser.screenshot("wall-1920x1080-writes-failing").await;

    std::fs::remove_file(&filler).expect("remove the filler");
    browser
        .wait_until("document.querySelector('[data-testid=\"writes-failing\"]') === null")
        .await;
    server.report("空间恢复后的上报").await;
    browser.close().await;
    server.stop().await;
    drop(dir);
    drop(disk);
}
