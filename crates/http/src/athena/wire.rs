//! athena's resource shapes, as the seeds nest them. Timestamps carry
//! microseconds (`2024-01-15T10:30:00.000000Z`).

use serde::Serialize;
use spool_core::listing::Cursor;
use spool_core::model::{ApiKey, Member, User, Workspace};
use spool_core::paging::Page;
use spool_core::{Timestamp, UserId};
use utoipa::ToSchema;

pub fn time(at: Timestamp) -> String {
    at.format("%Y-%m-%dT%H:%M:%S%.6fZ").to_string()
}

/// `{"data": ...}`, athena's envelope for one resource.
#[derive(Serialize, ToSchema)]
pub struct Data<T> {
    pub data: T,
}

pub fn data<T>(data: T) -> axum::Json<Data<T>> {
    axum::Json(Data { data })
}

#[derive(Serialize, ToSchema)]
pub struct UserBody {
    #[schema(example = 1)]
    pub id: i64,
    pub name: String,
    pub first_name: Option<String>,
    pub last_name: Option<String>,
    pub email: String,
    pub profile_photo_url: Option<String>,
    /// Not used by spool; always null.
    pub multiplai_id: Option<String>,
    #[schema(example = "2024-01-15T10:30:00.000000Z")]
    pub created_at: String,
    pub updated_at: String,
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
pub struct WorkspaceBody {
    #[schema(example = "550e8400-e29b-41d4-a716-446655440000")]
    pub uuid: String,
    pub slug: String,
    pub name: String,
    pub profile_photo_url: Option<String>,
    /// Not used by spool; always null.
    pub multiplai_id: Option<String>,
    pub is_onboarded: bool,
    #[schema(value_type = Object)]
    pub metadata: serde_json::Map<String, serde_json::Value>,
    /// Whether the caller created (owns) the workspace.
    pub is_owner: bool,
    pub created_at: String,
    pub updated_at: String,
    /// spool does not nest the owner here; see the members endpoint.
    #[schema(value_type = Option<Object>)]
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
            created_at: time(workspace.created_at),
            updated_at: time(workspace.updated_at),
            user: None,
        }
    }
}

#[derive(Serialize, ToSchema)]
pub struct MemberBody {
    pub id: i64,
    pub uuid: String,
    pub name: String,
    pub first_name: Option<String>,
    pub last_name: Option<String>,
    pub email: String,
    pub profile_photo_url: Option<String>,
    #[schema(example = "member")]
    pub role: String,
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
pub struct ApiKeyBody {
    pub uuid: String,
    pub name: String,
    /// The first characters of the key, to tell keys apart.
    #[schema(example = "spk_1a2b3c4d")]
    pub prefix: String,
    pub workspace_uuid: String,
    pub user_id: i64,
    pub created_at: String,
    pub last_used_at: Option<String>,
    pub expires_at: Option<String>,
    pub revoked_at: Option<String>,
    /// The key itself: present only in the response that created it.
    #[serde(skip_serializing_if = "Option::is_none")]
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

/// Laravel's length-aware paginator.
#[derive(Serialize, ToSchema)]
pub struct Paginated<T> {
    pub data: Vec<T>,
    pub links: PageLinks,
    pub meta: PageMeta,
}

#[derive(Serialize, ToSchema)]
pub struct PageLinks {
    pub first: String,
    pub last: String,
    pub prev: Option<String>,
    pub next: Option<String>,
}

#[derive(Serialize, ToSchema)]
pub struct PageMeta {
    pub current_page: u32,
    pub from: Option<u64>,
    pub last_page: u32,
    pub path: String,
    pub per_page: u32,
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

/// Laravel's cursor paginator (`?cursor=`), keyset underneath.
#[derive(Serialize, ToSchema)]
pub struct CursorPaginated<T> {
    pub data: Vec<T>,
    pub links: CursorLinks,
    pub meta: CursorMeta,
}

#[derive(Serialize, ToSchema)]
pub struct CursorLinks {
    pub first: Option<String>,
    pub last: Option<String>,
    pub prev: Option<String>,
    pub next: Option<String>,
}

#[derive(Serialize, ToSchema)]
pub struct CursorMeta {
    pub path: String,
    pub per_page: u32,
    pub next_cursor: Option<String>,
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
