//! The server the storm runs against: its process, started with the simulator off and its
//! output appended to a log, stopped with SIGTERM for the restart and at the end.

use anyhow::{Context, bail};
use std::path::{Path, PathBuf};
use std::process::{Child, ExitStatus};
use std::time::{Duration, Instant};

/// The server process: started with the simulator off, stopped with SIGTERM.
pub(super) struct Server {
    bin: PathBuf,
    addr: String,
    database_url: String,
    demo_password: String,
    log: PathBuf,
    child: Option<Child>,
}

impl Server {
    /// A server not yet started; `log` receives its output, appended.
    pub(super) fn new(
        bin: PathBuf,
        addr: String,
        database_url: String,
        demo_password: String,
        log: PathBuf,
    ) -> Server {
        Server {
            bin,
            addr,
            database_url,
            demo_password,
            log,
            child: None,
        }
    }

    /// Where the server's output goes.
    pub(super) fn log(&self) -> &Path {
        &self.log
    }

    pub(super) fn spawn(&mut self) -> anyhow::Result<()> {
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&self.log)
            .with_context(|| format!("cannot open {}", self.log.display()))?;
        let err = log.try_clone().context("cannot share the log file")?;
        let child = std::process::Command::new(&self.bin)
            .args(["--addr", &self.addr, "--database-url", &self.database_url])
            .args(["--simulator-rate", "0"])
            .args(["--demo-password", &self.demo_password])
            .stdout(log)
            .stderr(err)
            .spawn()
            .with_context(|| format!("cannot start {}", self.bin.display()))?;
        self.child = Some(child);
        Ok(())
    }

    pub(super) fn pid(&self) -> Option<u32> {
        self.child.as_ref().map(Child::id)
    }

    /// Waits for `/healthz`; the first start builds the demo city, so this can take a while.
    pub(super) async fn wait_healthy(
        &mut self,
        client: &reqwest::Client,
        base: &str,
    ) -> anyhow::Result<Duration> {
        let start = Instant::now();
        let url = format!("{base}/healthz");
        loop {
            if let Some(child) = self.child.as_mut()
                && let Ok(Some(status)) = child.try_wait()
            {
                bail!(
                    "the server exited before it was healthy ({status}); see {}",
                    self.log.display()
                );
            }
            if let Ok(response) = client.get(&url).send().await
                && response.status().is_success()
            {
                return Ok(start.elapsed());
            }
            if start.elapsed() > Duration::from_secs(300) {
                bail!(
                    "the server was not healthy within 300 s; see {}",
                    self.log.display()
                );
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// Sends SIGTERM and waits for the exit (SIGKILL after 60 s); says how it went.
    pub(super) async fn terminate(&mut self) -> anyhow::Result<String> {
        let Some(mut child) = self.child.take() else {
            return Ok("was not running".to_owned());
        };
        if let Ok(Some(status)) = child.try_wait() {
            return Ok(format!("had already exited ({status})"));
        }
        let start = Instant::now();
        // The workspace forbids unsafe code, so the signal goes through kill(1).
        let sent = std::process::Command::new("kill")
            .arg("-TERM")
            .arg(child.id().to_string())
            .status()
            .context("cannot run kill")?;
        if !sent.success() {
            bail!("kill -TERM {} failed: {sent}", child.id());
        }
        let status: ExitStatus = loop {
            if let Some(status) = child.try_wait().context("cannot wait for the server")? {
                break status;
            }
            if start.elapsed() > Duration::from_secs(60) {
                let _ = child.kill();
                let status = child.wait().context("cannot wait for the server")?;
                return Ok(format!(
                    "did NOT exit within 60 s of SIGTERM and was killed ({status})"
                ));
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        };
        Ok(format!(
            "exited {:.2} s after SIGTERM ({status})",
            start.elapsed().as_secs_f64()
        ))
    }
}

impl Drop for Server {
    /// A run that ends in an error must not leave the server listening.
    fn drop(&mut self) {
        if let Some(child) = self.child.as_mut()
            && matches!(child.try_wait(), Ok(None))
        {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}
