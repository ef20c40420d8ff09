"""A reference peer for `scripts/bench --peers`: fastapi-users (the FastAPI
authentication library) as its documentation sets it up, on SQLite with the
database token strategy, passwords hashed with argon2id at OWASP's
parameters (m=19456 KiB, t=2, p=1, Limen's defaults), served by uvicorn with
uvloop and httptools (`uvicorn[standard]`, as FastAPI deploys), so that the
bench can drive it with the same load generator and report Limen / peer from
one run.

    PEER_DATABASE=/tmp/peer.db python -m uvicorn fastapi_users_app:app \\
        --app-dir scripts/bench-peers --port 8090 --workers 2

Routes: POST /auth/register (JSON), POST /auth/login (form: username,
password; answers {"access_token", "token_type"}), GET /users/me (Bearer).
"""

import os
import uuid
from collections.abc import AsyncGenerator

from fastapi import Depends, FastAPI
from fastapi_users import BaseUserManager, FastAPIUsers, UUIDIDMixin, schemas
from fastapi_users.authentication import AuthenticationBackend, BearerTransport
from fastapi_users.authentication.strategy.db import AccessTokenDatabase, DatabaseStrategy
from fastapi_users.password import PasswordHelper
from fastapi_users_db_sqlalchemy import SQLAlchemyBaseUserTableUUID, SQLAlchemyUserDatabase
from fastapi_users_db_sqlalchemy.access_token import (
    SQLAlchemyAccessTokenDatabase,
    SQLAlchemyBaseAccessTokenTableUUID,
)
from pwdlib import PasswordHash
from pwdlib.hashers.argon2 import Argon2Hasher
from sqlalchemy.exc import OperationalError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker, create_async_engine
from sqlalchemy.orm import DeclarativeBase

DATABASE_URL = f"sqlite+aiosqlite:///{os.environ.get('PEER_DATABASE', 'peer.db')}"
SECRET = "bench-only-secret"


class Base(DeclarativeBase):
    pass


class User(SQLAlchemyBaseUserTableUUID, Base):
    pass


class AccessToken(SQLAlchemyBaseAccessTokenTableUUID, Base):
    pass


engine = create_async_engine(DATABASE_URL, connect_args={"timeout": 30})
session_maker = async_sessionmaker(engine, expire_on_commit=False)


async def get_session() -> AsyncGenerator[AsyncSession, None]:
    async with session_maker() as session:
        yield session


async def get_user_db(session: AsyncSession = Depends(get_session)):
    yield SQLAlchemyUserDatabase(session, User)


async def get_access_token_db(session: AsyncSession = Depends(get_session)):
    yield SQLAlchemyAccessTokenDatabase(session, AccessToken)


# OWASP's argon2id parameters, as Limen's defaults; the bench passes the
# run's own (`--quick` hashes cheaply on both sides).
password_helper = PasswordHelper(
    PasswordHash(
        (
            Argon2Hasher(
                time_cost=int(os.environ.get("PEER_ARGON2_ITERATIONS", "2")),
                memory_cost=int(os.environ.get("PEER_ARGON2_MEMORY_KIB", "19456")),
                parallelism=1,
            ),
        )
    )
)


class UserManager(UUIDIDMixin, BaseUserManager[User, uuid.UUID]):
    reset_password_token_secret = SECRET
    verification_token_secret = SECRET


async def get_user_manager(user_db=Depends(get_user_db)):
    yield UserManager(user_db, password_helper)


def get_database_strategy(
    access_token_db: AccessTokenDatabase[AccessToken] = Depends(get_access_token_db),
) -> DatabaseStrategy:
    return DatabaseStrategy(access_token_db, lifetime_seconds=3600)


backend = AuthenticationBackend(
    name="database",
    transport=BearerTransport(tokenUrl="auth/login"),
    get_strategy=get_database_strategy,
)
fastapi_users = FastAPIUsers[User, uuid.UUID](get_user_manager, [backend])


class UserRead(schemas.BaseUser[uuid.UUID]):
    pass


class UserCreate(schemas.BaseUserCreate):
    pass


app = FastAPI()
app.include_router(fastapi_users.get_auth_router(backend), prefix="/auth")
app.include_router(fastapi_users.get_register_router(UserRead, UserCreate), prefix="/auth")
app.include_router(
    fastapi_users.get_users_router(UserRead, schemas.BaseUserUpdate), prefix="/users"
)


@app.on_event("startup")
async def create_tables() -> None:
    # Both workers start at once; the second may find the tables made.
    try:
        async with engine.begin() as connection:
            await connection.run_sync(Base.metadata.create_all)
    except OperationalError:
        pass
