//! Documentation-only schemas of the problems the API answers with. The bodies it reads and
//! writes are `contract`'s (`ChargeRequestJson`, `ChargeJson`, `DeclineDetails`).

use contract::DeclineDetails;
use serde::Serialize;

/// RFC 9457 problem details, as every error is answered (documentation only; see
/// `service_kit::Problem`). Validation problems add `errors: [{field, message}]`, declines add
/// `charge_id` and `decline_code`.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ProblemDoc {
    #[schema(example = "https://webstore.example/problems/payment-declined")]
    pub r#type: String,
    #[schema(example = "Payment declined")]
    pub title: String,
    #[schema(example = 402)]
    pub status: u16,
    pub detail: Option<String>,
    /// The trace this answer belongs to, when it was sampled.
    pub trace_id: Option<String>,
}

/// A 402 `payment-declined`: a [`ProblemDoc`] plus the declined charge and the reason.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct DeclineProblemDoc {
    #[serde(flatten)]
    pub problem: ProblemDoc,
    #[serde(flatten)]
    pub details: DeclineDetails,
}
