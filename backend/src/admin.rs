//! The credential commands of the `gridwall` binary (`account`, `key`, `token display`): they
//! read the password without putting it in argv, call `services::credentials`, and print
//! readable tables. A new key or token is the one secret printed, once, on standard output;
//! everything else goes to standard error.

use crate::config::{AccountCommand, DisplayAdd, DisplayCommand, KeyCommand, TokenCommand};
use crate::services::auth::{NewAccount, hash_password};
use crate::services::credentials::{self, CredentialError, IssuedRow, check_password};
use anyhow::Context;
use std::io::{BufRead, IsTerminal, Write};

/// Runs `gridwall token …`.
pub async fn token(command: TokenCommand) -> anyhow::Result<()> {
    let TokenCommand::Display(display) = command;
    match display.command {
        None => add_display_token(display.add).await,
        Some(DisplayCommand::Add(add)) => add_display_token(add).await,
        Some(DisplayCommand::List(db)) => {
            let db = crate::store::connect(&db.database_url).await?;
            let rows = credentials::list_display_tokens(&db).await?;
            print_table(&issued_table(&rows, ["scope", "label"]));
            Ok(())
        }
        Some(DisplayCommand::Revoke { id, db }) => {
            let db = crate::store::connect(&db.database_url).await?;
            let revoked = credentials::revoke_display_token(&db, id)
                .await
                .map_err(refused)?;
            if revoked {
                eprintln!(
                    "display token {id} revoked: its walls are closed within 30 s and it opens none again"
                );
            } else {
                eprintln!("display token {id} was revoked already");
            }
            Ok(())
        }
    }
}

async fn add_display_token(add: DisplayAdd) -> anyhow::Result<()> {
    let scope = add
        .scope
        .context("a display token needs --scope city, district:CODE or street:CODE")?;
    let scope = shared::wall::Scope::parse(&scope).map_err(anyhow::Error::msg)?;
    let db = crate::store::connect(&add.db.database_url).await?;
    let (id, token) = credentials::add_display_token(&db, &scope, &add.label)
        .await
        .map_err(refused)?;
    eprintln!("display token {id} for {scope} (shown once; keep it with the wall):");
    writeln!(std::io::stdout(), "{token}")?;
    Ok(())
}

/// Runs `gridwall account …`.
pub async fn account(command: AccountCommand) -> anyhow::Result<()> {
    match command {
        AccountCommand::Add {
            login,
            name,
            role,
            area,
            department,
            grids,
            member_id,
            password_stdin,
            db,
        } => {
            let mut account = NewAccount {
                login,
                name,
                role,
                area,
                department,
                grids,
                member_id,
                password_hash: String::new(),
                demo: false,
            };
            // The account is checked before the password is asked for, so that a mistake in
            // it does not cost the operator a password typed twice.
            credentials::check_account(&account).map_err(anyhow::Error::msg)?;
            let password = read_password(&account.login, password_stdin)?;
            account.password_hash = hash_password(&password);
            let db = crate::store::connect(&db.database_url).await?;
            let id = credentials::add_account(&db, &account)
                .await
                .map_err(refused)?;
            eprintln!(
                "account {} ({id}) added: {}, {}",
                account.login,
                account.role,
                reach_of(&account)
            );
            Ok(())
        }
        AccountCommand::List(db) => {
            let db = crate::store::connect(&db.database_url).await?;
            let rows = credentials::list_accounts(&db).await?;
            let mut table = vec![
                [
                    "login", "name", "role", "reach", "state", "sessions", "created",
                ]
                .map(str::to_owned)
                .to_vec(),
            ];
            for a in &rows {
                let state = match (a.disabled_at_ms, a.demo) {
                    (Some(at), _) => format!("disabled {}", utc_minute(at)),
                    (None, true) => "demo".to_owned(),
                    (None, false) => "active".to_owned(),
                };
                table.push(vec![
                    a.login.clone(),
                    a.name.clone(),
                    a.role.clone(),
                    a.reach.clone(),
                    state,
                    a.sessions.to_string(),
                    utc_minute(a.created_at_ms),
                ]);
            }
            print_table(&table);
            Ok(())
        }
        AccountCommand::Disable { login, db } => {
            let db = crate::store::connect(&db.database_url).await?;
            let ended = credentials::disable_account(&db, &login)
                .await
                .map_err(refused)?;
            eprintln!(
                "account {login} disabled; {ended} session(s) ended (its open seats close within 30 s)"
            );
            Ok(())
        }
        AccountCommand::Password {
            login,
            password_stdin,
            db,
        } => {
            let db = crate::store::connect(&db.database_url).await?;
            // Known first, so that nobody types a password for a login that does not exist.
            if !credentials::list_accounts(&db)
                .await?
                .iter()
                .any(|a| a.login == login.trim())
            {
                anyhow::bail!("there is no account `{}`", login.trim());
            }
            let password = read_password(&login, password_stdin)?;
            let hash = hash_password(&password);
            let ended = credentials::set_password(&db, &login, &hash)
                .await
                .map_err(refused)?;
            eprintln!("account {login} has a new password; {ended} session(s) ended");
            Ok(())
        }
    }
}

/// Runs `gridwall key …`.
pub async fn key(command: KeyCommand) -> anyhow::Result<()> {
    match command {
        KeyCommand::Add { name, db } => {
            let db = crate::store::connect(&db.database_url).await?;
            let (id, key) = credentials::add_api_key(&db, &name)
                .await
                .map_err(refused)?;
            eprintln!("API key {id} for {name} (shown once; the app sends it as X-Api-Key):");
            writeln!(std::io::stdout(), "{key}")?;
            Ok(())
        }
        KeyCommand::List(db) => {
            let db = crate::store::connect(&db.database_url).await?;
            let rows = credentials::list_api_keys(&db).await?;
            print_table(&issued_table(&rows, ["app", "note"]));
            Ok(())
        }
        KeyCommand::Revoke { id, db } => {
            let db = crate::store::connect(&db.database_url).await?;
            if credentials::revoke_api_key(&db, id)
                .await
                .map_err(refused)?
            {
                eprintln!("API key {id} revoked: a running server refuses it within a minute");
            } else {
                eprintln!("API key {id} was revoked already");
            }
            Ok(())
        }
    }
}

/// A credential error as the command's error: the request's fault in its own words.
fn refused(err: CredentialError) -> anyhow::Error {
    match err {
        CredentialError::Invalid(text) => anyhow::Error::msg(text),
        CredentialError::Database(err) => anyhow::Error::new(err).context("the database failed"),
    }
}

fn reach_of(account: &NewAccount) -> String {
    match (&account.area, &account.department) {
        (Some(area), _) => area.to_string(),
        (None, Some(d)) => format!("department {d}"),
        (None, None) => format!("grids {}", account.grids.join(",")),
    }
}

/// Reads a password: the first line of standard input with `--password-stdin`, or typed twice
/// at a prompt on a terminal (with echo turned off where `stty` can). Never from argv, where
/// other users of the machine and the shell's history would see it.
fn read_password(login: &str, from_stdin: bool) -> anyhow::Result<String> {
    let stdin = std::io::stdin();
    let password = if from_stdin {
        read_line(&mut stdin.lock())?
    } else if stdin.is_terminal() {
        let first = prompt(&format!("password for {login}: "))?;
        check_password(&first).map_err(anyhow::Error::msg)?;
        let again = prompt("the same again: ")?;
        if first != again {
            anyhow::bail!("the two passwords differ; nothing was changed");
        }
        first
    } else {
        anyhow::bail!(
            "standard input is not a terminal: give --password-stdin to read the password from it"
        );
    };
    check_password(&password).map_err(anyhow::Error::msg)?;
    Ok(password)
}

/// One line without its line ending.
fn read_line(input: &mut impl BufRead) -> anyhow::Result<String> {
    let mut line = String::new();
    input
        .read_line(&mut line)
        .context("cannot read the password from standard input")?;
    Ok(line.trim_end_matches(['\n', '\r']).to_owned())
}

/// Asks on standard error and reads a line from the terminal, with echo off while it is typed.
fn prompt(question: &str) -> anyhow::Result<String> {
    eprint!("{question}");
    std::io::stderr().flush()?;
    let stty = |arg: &str| {
        std::process::Command::new("stty")
            .arg(arg)
            .stdin(std::process::Stdio::inherit())
            .status()
            .is_ok_and(|s| s.success())
    };
    let silenced = stty("-echo");
    let line = read_line(&mut std::io::stdin().lock());
    if silenced {
        stty("echo");
        eprintln!();
    }
    line
}

/// The rows of a key or token list: number, what, note, made, state.
fn issued_table(rows: &[IssuedRow], [what, note]: [&str; 2]) -> Vec<Vec<String>> {
    let mut table = vec![
        ["no.", what, note, "created", "state"]
            .map(str::to_owned)
            .to_vec(),
    ];
    for r in rows {
        table.push(vec![
            r.id.to_string(),
            r.what.clone(),
            r.note.clone(),
            utc_minute(r.created_at_ms),
            match r.revoked_at_ms {
                Some(at) => format!("revoked {}", utc_minute(at)),
                None => "active".to_owned(),
            },
        ]);
    }
    table
}

fn print_table(table: &[Vec<String>]) {
    let mut out = std::io::stdout().lock();
    let _ = out.write_all(format_table(table).as_bytes());
}

/// Lays `table` out in columns, the first row the heading; widths count characters, with a
/// CJK character counted as two columns, as a terminal shows it.
pub fn format_table(table: &[Vec<String>]) -> String {
    let width = |s: &str| -> usize {
        s.chars()
            .map(|c| if (c as u32) >= 0x1100 { 2 } else { 1 })
            .sum()
    };
    let columns = table.iter().map(Vec::len).max().unwrap_or(0);
    let widths: Vec<usize> = (0..columns)
        .map(|i| {
            table
                .iter()
                .filter_map(|row| row.get(i))
                .map(|s| width(s))
                .max()
                .unwrap_or(0)
        })
        .collect();
    let mut text = String::new();
    for row in table {
        let mut line = String::new();
        for (i, cell) in row.iter().enumerate() {
            line.push_str(cell);
            if i + 1 < row.len() {
                line.push_str(&" ".repeat(widths[i] - width(cell) + 2));
            }
        }
        text.push_str(line.trim_end());
        text.push('\n');
    }
    if table.len() <= 1 {
        text.push_str("(none)\n");
    }
    text
}

/// A moment as `2026-12-08 09:30 UTC`.
pub fn utc_minute(ms: i64) -> String {
    let day = ms.div_euclid(86_400_000);
    let (y, m, d) = shared::time::civil_from_day(day);
    let minute = ms.rem_euclid(86_400_000) / 60_000;
    format!(
        "{y:04}-{m:02}-{d:02} {:02}:{:02} UTC",
        minute / 60,
        minute % 60
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tables_line_up_in_columns() {
        let table = vec![
            vec!["login".to_owned(), "name".to_owned(), "role".to_owned()],
            vec!["wang".to_owned(), "王五".to_owned(), "leader".to_owned()],
        ];
        assert_eq!(
            format_table(&table),
            "login  name  role\nwang   王五  leader\n"
        );
        assert_eq!(format_table(&table[..1]), "login  name  role\n(none)\n");
    }

    #[test]
    fn moments_print_in_utc() {
        assert_eq!(utc_minute(0), "1970-01-01 00:00 UTC");
        assert_eq!(utc_minute(1_765_157_400_000), "2025-12-08 01:30 UTC");
    }

    #[test]
    fn a_password_line_loses_its_line_ending_only() {
        let mut input = std::io::Cursor::new(" secret words \r\nsecond line\n");
        assert_eq!(read_line(&mut input).unwrap(), " secret words ");
    }
}
