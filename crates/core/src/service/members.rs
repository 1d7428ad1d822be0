//! Who belongs to a workspace, and with which role.

use super::{Access, Principal, Scope, Spool};
use crate::error::{CoreError, ValidationErrors};
use crate::model::{Member, Role};
use crate::paging::{Page, PageRequest};
use crate::store::RemoveMember;
use crate::{UserId, now, validate};

pub struct NewMemberInput {
    pub email: String,
    /// `owner`, `admin` or `member` (the default).
    pub role: Option<String>,
}

impl Spool {
    pub async fn list_members(
        &self,
        scope: &Scope,
        page: PageRequest,
    ) -> Result<Page<Member>, CoreError> {
        Ok(self.store.list_members(scope.id(), page).await?)
    }

    /// Adds an existing user, or changes a member's role. Admins manage
    /// members and admins; only owners grant or take away ownership.
    pub async fn put_member(
        &self,
        scope: &Scope,
        input: NewMemberInput,
    ) -> Result<Member, CoreError> {
        let acting = scope.require_role(Role::Admin, "manage members")?;
        let mut errors = ValidationErrors::new();
        let email = validate::email("email", &input.email, &mut errors);
        let role = match input.role.as_deref() {
            None => Role::Member,
            Some(text) => Role::parse(text).unwrap_or_else(|| {
                errors.add(
                    "role",
                    "The selected role is invalid (owner, admin or member).",
                );
                Role::Member
            }),
        };
        errors.into_result()?;

        let user =
            self.store.user_by_email(&email).await?.ok_or_else(|| {
                CoreError::invalid("email", "No spool user has this email address.")
            })?;
        let current = self.store.role(scope.id(), user.id).await?;
        let touches_owner = role == Role::Owner || current == Some(Role::Owner);
        if touches_owner && acting != Role::Owner {
            return Err(CoreError::Forbidden(
                "Only a workspace owner may grant or change ownership.".into(),
            ));
        }
        if current == Some(Role::Owner)
            && role != Role::Owner
            && self.is_last_owner(scope, user.id).await?
        {
            return Err(CoreError::Conflict(
                "The last owner of a workspace cannot step down.".into(),
            ));
        }
        let at = now();
        self.store.put_member(scope.id(), user.id, role, at).await?;
        self.credentials.forget_scopes(scope.id());
        let user = self
            .store
            .user(user.id)
            .await?
            .ok_or(CoreError::NotFound("User"))?;
        Ok(Member {
            user,
            role,
            joined_at: at,
        })
    }

    /// Removes a member. Anyone may leave; admins remove members and admins;
    /// owners remove anyone but the last owner.
    pub async fn remove_member(
        &self,
        principal: &Principal,
        scope: &Scope,
        user: UserId,
    ) -> Result<(), CoreError> {
        let leaving = matches!(scope.access, Access::Member(_)) && principal.user_id() == user;
        if !leaving {
            let acting = scope.require_role(Role::Admin, "remove members")?;
            let target = self
                .store
                .role(scope.id(), user)
                .await?
                .ok_or(CoreError::NotFound("Member"))?;
            if target == Role::Owner && acting != Role::Owner {
                return Err(CoreError::Forbidden(
                    "Only a workspace owner may remove an owner.".into(),
                ));
            }
        }
        match self.store.remove_member(scope.id(), user).await? {
            RemoveMember::Removed => {
                self.credentials.forget_workspace(scope.id(), Some(user));
                Ok(())
            }
            RemoveMember::NotMember => Err(CoreError::NotFound("Member")),
            RemoveMember::LastOwner => Err(CoreError::Conflict(
                "The last owner of a workspace cannot be removed.".into(),
            )),
        }
    }

    async fn is_last_owner(&self, scope: &Scope, user: UserId) -> Result<bool, CoreError> {
        let page = PageRequest {
            page: 1,
            per_page: crate::paging::MAX_PER_PAGE,
        };
        let mut owners = 0;
        let mut request = page;
        loop {
            let members = self.store.list_members(scope.id(), request).await?;
            owners += members
                .items
                .iter()
                .filter(|m| m.role == Role::Owner && m.user.id != user)
                .count();
            if owners > 0 || request.page >= members.last_page() {
                return Ok(owners == 0);
            }
            request.page += 1;
        }
    }
}
