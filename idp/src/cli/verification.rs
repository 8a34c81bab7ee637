//! The service centre's commands: operators (who may confirm people's identity through the
//! operator API) and the registered-mail letters waiting to be printed.

use clap::Subcommand;

use crate::AppState;
use crate::domain::verification::confirm;
use crate::store::{letters, operators};

#[derive(Subcommand)]
pub enum OperatorsAction {
    /// Create an operator and print their bearer token (shown once).
    Create {
        #[arg(long)]
        name: String,
    },
    List,
}

#[derive(Subcommand)]
pub enum LettersAction {
    /// Letters waiting to be printed: recipient, address and the code to print.
    List,
    /// Mark a letter printed and posted (its code is then erased).
    Sent { id: String },
}

pub async fn operators(state: &AppState, action: OperatorsAction) -> Result<(), String> {
    match action {
        OperatorsAction::Create { name } => {
            if name.trim().is_empty() || name.chars().count() > 200 {
                return Err("--name must be 1 to 200 characters".into());
            }
            let (op, token) = confirm::create_operator(state, &name)
                .await
                .map_err(|e| e.to_string())?;
            println!("operator {} ({})", op.id, op.name);
            println!("token: {token}");
            println!("Keep the token secret: it is shown only now.");
        }
        OperatorsAction::List => {
            for op in operators::list(&state.db)
                .await
                .map_err(|e| e.to_string())?
            {
                println!("{}\t{}\tcreated {}", op.id, op.name, op.created_at);
            }
        }
    }
    Ok(())
}

pub async fn letters(state: &AppState, action: LettersAction) -> Result<(), String> {
    match action {
        LettersAction::List => {
            let list = confirm::printable_letters(state, 500)
                .await
                .map_err(|e| e.to_string())?;
            if list.is_empty() {
                println!("no letters to print");
            }
            for p in list {
                println!(
                    "{}\t{}\t{}\tcode {}\texpires {}",
                    p.letter.id,
                    p.letter.recipient,
                    p.letter.address,
                    p.code.as_deref().unwrap_or("(unreadable)"),
                    p.letter.expires_at
                );
            }
        }
        LettersAction::Sent { id } => {
            let now = state.clock.now();
            if !letters::mark_sent(&state.db, &id, now)
                .await
                .map_err(|e| e.to_string())?
            {
                return Err(format!("no pending letter {id}"));
            }
            println!("letter {id} marked sent");
        }
    }
    Ok(())
}
