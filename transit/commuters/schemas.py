"""Request and response bodies of the commuters' accounts API."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from transit.accounts.users import IssuedTokens, User


class RegisterIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    email: str = Field(max_length=1000, description="The address to sign in with")
    password: str = Field(max_length=1000, description="At least 10 characters, not the "
                          "email, mixing at least two of: lower case, upper case, digits, "
                          "other characters")


class TokenOut(BaseModel):
    """OAuth2 token response (RFC 6749 §5.1), with the account it is for."""

    access_token: str
    token_type: Literal["bearer"] = "bearer"
    expires_in: int = Field(description="Seconds the access token lives")
    refresh_token: str = Field(description="Exchanged once for a new pair "
                               "(grant_type=refresh_token); presented twice, it revokes "
                               "the whole sign-in")
    user_id: str
    account: Literal["anonymous", "registered"]

    @classmethod
    def of(cls, issued: IssuedTokens) -> TokenOut:
        return cls(access_token=issued.access_token, expires_in=issued.expires_in,
                   refresh_token=issued.refresh_token, user_id=issued.user.id,
                   account="anonymous" if issued.user.anonymous else "registered")


class LogoutOut(BaseModel):
    revoked_tokens: int = Field(description="Access and refresh tokens revoked")
    everywhere: bool


class AccountOut(BaseModel):
    id: str
    account: Literal["anonymous", "registered"]
    email: str | None
    created_at: datetime
    registered_at: datetime | None

    @classmethod
    def of(cls, user: User) -> AccountOut:
        return cls(id=user.id, account="anonymous" if user.anonymous else "registered",
                   email=user.email, created_at=user.created_at,
                   registered_at=user.registered_at)
