//! athena's resource shapes, as the seeds nest them. Timestamps carry
//! microseconds (`2024-01-15T10:30:00.000000Z`).

use serde::Serialize;
use spool_core::listing::Cursor;
use spool_core::model::{ApiKey, Member, User, Workspace};
use spool_core::paging::Page;
use spool_core::{Timestamp, UserId};
use utoipa::ToSchema;

pub fn time(at: Timestamp) -> String {
    crate::timestamps::micros(at)
}

/// `{"data": ...}`, athena's envelope for one resource. (Documented per
/// item type in `athena::openapi` as `Athena…Response`.)
#[derive(Serialize)]
pub struct Data<T> {
    pub data: T,
}

pub fn data<T>(data: T) -> axum::Json<Data<T>> {
    axum::Json(Data { data })
}

#[derive(Serialize, ToSchema)]
#[schema(as = AthenaUser)]
pub struct UserBody {
    #[schema(example = 1, minimum = 1)]
    pub id: i64,
    pub name: String,
    #[schema(required = true)]
    pub first_name: Option<String>,
    #[schema(required = true)]
    pub last_name: Option<String>,
    pub email: String,
    #[schema(required = true)]
    pub profile_photo_url: Option<String>,
    /// Not used by spool; always null.
    #[schema(required = true)]
    pub multiplai_id: Option<String>,
    #[schema(format = DateTime, example = "2024-01-15T10:30:00.000000Z")]
    pub created_at: String,
    #[schema(format = DateTime)]
    pub updated_at: String,
    #[schema(required = true)]
    pub primary_workspace: Option<WorkspaceBody>,
}

impl UserBody {
    pub fn new(user: User, primary_workspace: Option<Workspace>) -> Self {
        let viewer = user.id;
        Self {
            id: user.id.0,
            name: user.name,
            first_name: user.first_name,
            last_name: user.last_name,
            email: user.email,
            profile_photo_url: user.profile_photo_url,
            multiplai_id: None,
            created_at: time(user.created_at),
            updated_at: time(user.updated_at),
            primary_workspace: primary_workspace.map(|w| WorkspaceBody::new(w, viewer)),
        }
    }
}

#[derive(Serialize, ToSchema)]
#[schema(as = AthenaWorkspace)]
pub struct WorkspaceBody {
    #[schema(format = Uuid, example = "550e8400-e29b-41d4-a716-446655440000")]
    pub uuid: String,
    pub slug: String,
    pub name: String,
    #[schema(required = true)]
    pub profile_photo_url: Option<String>,
    /// Not used by spool; always null.
    #[schema(required = true)]
    pub multiplai_id: Option<String>,
    pub is_onboarded: bool,
    #[schema(value_type = Object)]
    pub metadata: serde_json::Map<String, serde_json::Value>,
    /// Whether the caller created (owns) the workspace.
    pub is_owner: bool,
    /// Days after their last activity that threads without an `expires_at`
    /// are kept; null: for good.
    #[schema(required = true, minimum = 1, maximum = 36600)]
    pub thread_retention_days: Option<u32>,
    #[schema(format = DateTime)]
    pub created_at: String,
    #[schema(format = DateTime)]
    pub updated_at: String,
    /// spool does not nest the owner here (see the members endpoint); always null.
    #[schema(schema_with = super::openapi::always_null, required = true)]
    pub user: Option<()>,
}

impl WorkspaceBody {
    pub fn new(workspace: Workspace, viewer: UserId) -> Self {
        Self {
            uuid: workspace.id.to_string(),
            slug: workspace.slug,
            name: workspace.name,
            profile_photo_url: workspace.profile_photo_url,
            multiplai_id: None,
            is_onboarded: workspace.is_onboarded,
            metadata: workspace.metadata.into_map(),
            is_owner: workspace.owner_id == Some(viewer),
            thread_retention_days: workspace.thread_retention_days,
            created_at: time(workspace.created_at),
            updated_at: time(workspace.updated_at),
            user: None,
        }
    }
}

#[derive(Serialize, ToSchema)]
#[schema(as = AthenaMember)]
pub struct MemberBody {
    #[schema(minimum = 1)]
    pub id: i64,
    #[schema(format = Uuid)]
    pub uuid: String,
    pub name: String,
    #[schema(required = true)]
    pub first_name: Option<String>,
    #[schema(required = true)]
    pub last_name: Option<String>,
    pub email: String,
    #[schema(required = true)]
    pub profile_photo_url: Option<String>,
    #[schema(value_type = super::openapi::Role)]
    pub role: String,
    #[schema(format = DateTime)]
    pub joined_at: String,
}

impl From<Member> for MemberBody {
    fn from(member: Member) -> Self {
        Self {
            id: member.user.id.0,
            uuid: member.user.uuid.to_string(),
            name: member.user.name,
            first_name: member.user.first_name,
            last_name: member.user.last_name,
            email: member.user.email,
            profile_photo_url: member.user.profile_photo_url,
            role: member.role.as_str().to_owned(),
            joined_at: time(member.joined_at),
        }
    }
}

#[derive(Serialize, ToSchema)]
#[schema(as = AthenaApiKey)]
pub struct ApiKeyBody {
    #[schema(format = Uuid)]
    pub uuid: String,
    pub name: String,
    /// The first characters of the key, to tell keys apart.
    #[schema(example = "spk_1a2b3c4d")]
    pub prefix: String,
    #[schema(format = Uuid)]
    pub workspace_uuid: String,
    /// The user who made the key.
    #[schema(minimum = 1)]
    pub user_id: i64,
    #[schema(format = DateTime)]
    pub created_at: String,
    /// Refreshed at most once a minute.
    #[schema(format = DateTime, required = true)]
    pub last_used_at: Option<String>,
    #[schema(format = DateTime, required = true)]
    pub expires_at: Option<String>,
    #[schema(format = DateTime, required = true)]
    pub revoked_at: Option<String>,
    /// The key itself (`spk_` + 64 hex): present only in the response that created it.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = String, required = false, example = "spk_1a2b3c4d…")]
    pub key: Option<String>,
}

impl From<ApiKey> for ApiKeyBody {
    fn from(key: ApiKey) -> Self {
        Self {
            uuid: key.id.to_string(),
            name: key.name,
            prefix: key.prefix,
            workspace_uuid: key.workspace_id.to_string(),
            user_id: key.user_id.0,
            created_at: time(key.created_at),
            last_used_at: key.last_used_at.map(time),
            expires_at: key.expires_at.map(time),
            revoked_at: key.revoked_at.map(time),
            key: None,
        }
    }
}

/// Laravel's length-aware paginator. (Documented per item type in
/// `athena::openapi` as `Athena…Page`.)
#[derive(Serialize)]
pub struct Paginated<T> {
    pub data: Vec<T>,
    pub links: PageLinks,
    pub meta: PageMeta,
}

/// Page-mode links. `next` is a cursor link (`?cursor=…`) when a page
/// bounded in bytes stopped short (messages).
#[derive(Serialize, ToSchema)]
#[schema(as = AthenaPageLinks)]
pub struct PageLinks {
    pub first: String,
    pub last: String,
    #[schema(required = true)]
    pub prev: Option<String>,
    #[schema(required = true)]
    pub next: Option<String>,
}

/// Page-mode `meta`, Laravel's length-aware paginator.
#[derive(Serialize, ToSchema)]
#[schema(as = AthenaPageMeta)]
pub struct PageMeta {
    #[schema(minimum = 1)]
    pub current_page: u32,
    /// The first item's position (from 1); null on an empty page.
    #[schema(minimum = 1, required = true)]
    pub from: Option<u64>,
    #[schema(minimum = 1)]
    pub last_page: u32,
    pub path: String,
    #[schema(minimum = 1, maximum = 100)]
    pub per_page: u32,
    /// The last item's position; null on an empty page.
    #[schema(minimum = 1, required = true)]
    pub to: Option<u64>,
    pub total: u64,
}

impl<T> Paginated<T> {
    pub fn new<S>(page: Page<S>, path: &str, render: impl FnMut(S) -> T) -> Self {
        let current = page.request.page;
        let per_page = page.request.per_page;
        let last_page = page.last_page();
        let count = page.items.len() as u64;
        let offset = page.request.offset();
        let url = |n: u32| format!("{path}?page={n}&per_page={per_page}");
        Self {
            links: PageLinks {
                first: url(1),
                last: url(last_page),
                prev: (current > 1).then(|| url(current - 1)),
                next: (current < last_page).then(|| url(current + 1)),
            },
            meta: PageMeta {
                current_page: current,
                from: (count > 0).then_some(offset + 1),
                last_page,
                path: path.to_owned(),
                per_page,
                to: (count > 0).then_some(offset + count),
                total: page.total,
            },
            data: page.items.into_iter().map(render).collect(),
        }
    }
}

impl<T> Paginated<T> {
    /// A page cut short by a byte bound continues in cursor mode: `next`
    /// becomes the cursor link after its last row. `meta` stays that of the
    /// page asked for — `to` tells where it stopped.
    pub fn continuing_after(mut self, cursor: Cursor) -> Self {
        self.links.next = Some(format!(
            "{}?cursor={}&per_page={}",
            self.meta.path,
            cursor.encode(),
            self.meta.per_page
        ));
        self
    }
}

/// The client's parameters other than the paging ones, URL-encoded: links
/// keep them so that following one continues the same list.
fn carried(query: &[(String, String)]) -> String {
    let mut out = form_urlencoded::Serializer::new(String::new());
    for (name, value) in query {
        if !matches!(name.as_str(), "page" | "per_page" | "cursor") {
            out.append_pair(name, value);
        }
    }
    out.finish()
}

fn append(link: &mut String, extra: &str) {
    if !extra.is_empty() {
        link.push('&');
        link.push_str(extra);
    }
}

impl<T> Paginated<T> {
    /// Keeps the client's workspace, filters and sort in the links.
    pub fn keeping(mut self, query: &[(String, String)]) -> Self {
        let extra = carried(query);
        let links = &mut self.links;
        for link in [&mut links.first, &mut links.last] {
            append(link, &extra);
        }
        for link in [&mut links.prev, &mut links.next].into_iter().flatten() {
            append(link, &extra);
        }
        self
    }
}

/// Laravel's cursor paginator (`?cursor=`), keyset underneath. (Documented
/// per item type in `athena::openapi` as `Athena…CursorPage`.)
#[derive(Serialize)]
pub struct CursorPaginated<T> {
    pub data: Vec<T>,
    pub links: CursorLinks,
    pub meta: CursorMeta,
}

/// Cursor-mode links: no first or last page, `prev` and `next` null at
/// the ends.
#[derive(Serialize, ToSchema)]
#[schema(as = AthenaCursorLinks)]
pub struct CursorLinks {
    #[schema(schema_with = super::openapi::always_null, required = true)]
    pub first: Option<String>,
    #[schema(schema_with = super::openapi::always_null, required = true)]
    pub last: Option<String>,
    #[schema(required = true)]
    pub prev: Option<String>,
    #[schema(required = true)]
    pub next: Option<String>,
}

/// Cursor-mode `meta`: no total. Pass `next_cursor` (or `prev_cursor`) as
/// `cursor` for the next (previous) page.
#[derive(Serialize, ToSchema)]
#[schema(as = AthenaCursorMeta)]
pub struct CursorMeta {
    pub path: String,
    #[schema(minimum = 1, maximum = 100)]
    pub per_page: u32,
    #[schema(required = true)]
    pub next_cursor: Option<String>,
    #[schema(required = true)]
    pub prev_cursor: Option<String>,
}

/// A list in whichever mode the client asked for.
#[derive(Serialize)]
#[serde(untagged)]
pub enum ListBody<T> {
    Page(Paginated<T>),
    Cursor(CursorPaginated<T>),
}

impl<T> ListBody<T> {
    /// Links carry only the paging parameters; see [`ListBody::keeping`].
    pub fn new<S>(
        listing: spool_core::listing::Listing<S>,
        path: &str,
        render: impl FnMut(S) -> T,
    ) -> Self {
        use spool_core::listing::Listing;
        match listing {
            Listing::Page(page) => ListBody::Page(Paginated::new(page, path, render)),
            Listing::Cursor(page) => {
                let next_cursor = page.next.map(|c| c.encode());
                let prev_cursor = page.prev.map(|c| format!("p{}", c.encode()));
                let link = |c: &Option<String>| {
                    c.as_ref()
                        .map(|c| format!("{path}?cursor={c}&per_page={}", page.limit))
                };
                ListBody::Cursor(CursorPaginated {
                    links: CursorLinks {
                        first: None,
                        last: None,
                        prev: link(&prev_cursor),
                        next: link(&next_cursor),
                    },
                    meta: CursorMeta {
                        path: path.to_owned(),
                        per_page: page.limit,
                        next_cursor,
                        prev_cursor,
                    },
                    data: page.items.into_iter().map(render).collect(),
                })
            }
        }
    }

    /// See [`Paginated::continuing_after`]; a cursor page's `next` is there already.
    pub fn continuing_after(self, cursor: Option<Cursor>) -> Self {
        match (self, cursor) {
            (ListBody::Page(page), Some(cursor)) => ListBody::Page(page.continuing_after(cursor)),
            (body, _) => body,
        }
    }

    /// Keeps the client's workspace, thread, filters and sort in the links:
    /// a cursor only means something in the list that issued it.
    pub fn keeping(self, query: &[(String, String)]) -> Self {
        match self {
            ListBody::Page(page) => ListBody::Page(page.keeping(query)),
            ListBody::Cursor(mut page) => {
                let extra = carried(query);
                let links = &mut page.links;
                for link in [&mut links.prev, &mut links.next].into_iter().flatten() {
                    append(link, &extra);
                }
                ListBody::Cursor(page)
            }
        }
    }
}
