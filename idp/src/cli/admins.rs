//! `idp admins create|list`: administrators, who register relying parties through the admin
//! API (`/api/admin/clients`) with the bearer token printed here once.

use clap::Subcommand;

use crate::AppState;
use crate::store::admins;

#[derive(Subcommand)]
pub enum AdminsAction {
    /// Create an administrator and print their bearer token (shown once).
    Create {
        #[arg(long)]
        name: String,
    },
    List,
}

pub async fn run(state: &AppState, action: AdminsAction) -> Result<(), String> {
    match action {
        AdminsAction::Create { name } => {
            if name.trim().is_empty() || name.chars().count() > 200 {
                return Err("--name must be 1 to 200 characters".into());
            }
            let (admin, token) =
                admins::create(&state.db, &state.secrets, &name, state.clock.now())
                    .await
                    .map_err(|e| e.to_string())?;
            println!("admin {} ({})", admin.id, admin.name);
            println!("token: {token}");
            println!("Keep the token secret: it is shown only now.");
        }
        AdminsAction::List => {
            for a in admins::list(&state.db).await.map_err(|e| e.to_string())? {
                println!("{}\t{}\tcreated {}", a.id, a.name, a.created_at);
            }
        }
    }
    Ok(())
}
