//! Which role may submit which kind. The matrix is documented in `docs/roles.md`; a test keeps
//! the two in step. In a governed project the role is the actor's project role (its
//! `member_added`); in the `system` stream and in legacy projects, the role it was registered
//! with. An `admin` acts in any governed project without being a member, for the kinds its row
//! allows.

use super::event::{Kind, Role};

/// Whether an actor holding `role` may sign an event of `kind`.
pub fn may_submit(role: Role, kind: Kind) -> bool {
    use Kind::*;
    use Role::*;
    match role {
        Admin => matches!(
            kind,
            OrganizationRegistered
                | ActorRegistered
                | KeyAdded
                | KeyRevoked
                | ProjectCreated
                | ProjectAdopted
                | MemberAdded
                | MemberRemoved
                | NoteAdded
                | ConfidentialErased
        ),
        Producer => matches!(
            kind,
            ProjectCreated
                | BriefRecorded
                | BriefRevised
                | ReferenceAdded
                | AssetImported
                | SelectionMade
                | DeliveryRecorded
                | StageMarked
                | NoteAdded
                | EventRetracted
                | MemberAdded
                | MemberRemoved
                | PolicyAmended
                | ConfidentialErased
        ),
        CreativeDirector => matches!(
            kind,
            BriefRecorded
                | BriefRevised
                | ReferenceAdded
                | PromptAuthored
                | SelectionMade
                | ApprovalRecorded
                | StageMarked
                | NoteAdded
                | EventRetracted
        ),
        AiArtist => matches!(
            kind,
            ReferenceAdded
                | AssetImported
                | ModelVersionRegistered
                | PipelineDefined
                | PromptAuthored
                | GenerationRecorded
                | SelectionMade
                | PostEditApplied
                | NoteAdded
        ),
        PostArtist => matches!(kind, ReferenceAdded | AssetImported | PostEditApplied | NoteAdded),
        QcReviewer => matches!(kind, QcReviewRecorded | StageMarked | NoteAdded),
        BrandCompliance => {
            matches!(
                kind,
                ReferenceAdded
                    | QcReviewRecorded
                    | ApprovalRecorded
                    | NoteAdded
                    | EventRetracted
                    | PolicyAmended
                    | ConfidentialErased
            )
        }
        ClientApprover => matches!(kind, ApprovalRecorded | NoteAdded),
        Integration => matches!(
            kind,
            AssetImported
                | ModelVersionRegistered
                | PipelineDefined
                | PromptAuthored
                | GenerationRecorded
                | PostEditApplied
                | DeliveryRecorded
                | NoteAdded
        ),
    }
}

/// The matrix as a Markdown table, rows by kind; `docs/roles.md` embeds it.
pub fn matrix_markdown() -> String {
    let mut out = String::from("| kind |");
    for role in Role::ALL {
        out.push_str(&format!(" {} |", role.as_str()));
    }
    out.push_str("\n|---|");
    out.push_str(&"---|".repeat(Role::ALL.len()));
    out.push('\n');
    for kind in Kind::ALL {
        out.push_str(&format!("| `{}` |", kind.as_str()));
        for role in Role::ALL {
            out.push_str(if may_submit(role, *kind) { " ✔ |" } else { " |" });
        }
        out.push('\n');
    }
    out
}
