"""The shop API application."""

from fastapi import FastAPI
from fastapi.middleware.cors import CORSMiddleware
from starlette.middleware import Middleware

from app.routers import items, orders

# planted: API005 (no /v1 prefix anywhere), ERR007 (no handler for unexpected errors),
# LOG004 (no health route), SEC010 (no security headers) - project-level, at the app
app = FastAPI(title="shop")

# planted: SEC003 (any origin, with cookies/credentials)
app.add_middleware(
    CORSMiddleware,
    allow_origins=["*"],
    allow_credentials=True,
    allow_methods=["*"],
)

# planted: SEC002 (the admin sub-application accepts any origin), ERR007 (a mounted app
# answers its own errors: the outer app's handlers do not cover it)
admin = FastAPI(middleware=[Middleware(CORSMiddleware, allow_origins=["*"])])

app.include_router(items.router)
app.include_router(orders.router)
app.mount("/admin", admin)
