"""crm's HTTP API. Thin views: validate, open a transaction, call one use case, return."""
from flask import current_app, request
from flask.views import MethodView
from flask_smorest import Blueprint

from mall_shared.api import DomainError, PageArgs, Unauthorized, page_schema, paginate, transaction
from mall_shared.auth import current_identity, require, requires

from . import accounts, membership, services
from .accounts import Signer
from .config import CrmConfig
from .schemas import (
    AddressSchema,
    AddressUpdateSchema,
    CustomerOverviewSchema,
    CustomerQueryArgs,
    LoginSchema,
    MembershipSchema,
    PasswordChangeSchema,
    PointsAdjustmentSchema,
    PointsEntrySchema,
    ProfileSchema,
    ProfileUpdateSchema,
    PurchaseSchema,
    RefreshSchema,
    RegisterSchema,
    StaffSchema,
    TokenSchema,
)

auth = Blueprint("auth", __name__, url_prefix="/api/auth", description="Accounts and tokens")
me = Blueprint("me", __name__, url_prefix="/api/crm/me", description="The customer's own profile and data")
customers = Blueprint("customers", __name__, url_prefix="/api/crm/customers", description="Customers (staff)")
blueprints = [auth, me, customers]


def _config() -> CrmConfig:
    return current_app.extensions["crm_config"]


def _signer() -> Signer:
    return current_app.extensions["crm_signer"]


def client_address() -> str:
    """The caller as the gateway counts it (X-Mall-Client: it drops any a client sends, and sees
    through the web app to the visitor); else the last X-Forwarded-For entry, the one the gateway
    appended (earlier ones the client may have forged); else the peer."""
    forwarded = request.headers.get("X-Forwarded-For", "")
    return (request.headers.get("X-Mall-Client", "").strip() or forwarded.rsplit(",", 1)[-1].strip()
            or request.remote_addr or "")


def _raise_if_error(result):
    # Some use cases return their error instead of raising it, so that what they recorded
    # (a failed login, a revoked token family) commits before the error is answered.
    if isinstance(result, DomainError):
        raise result
    return result


# ---- accounts and tokens ---------------------------------------------------------------------
@auth.route("/register")
class Register(MethodView):
    @auth.arguments(RegisterSchema)
    @auth.response(201, ProfileSchema)
    def post(self, data):
        """Register a customer account with an email or a mobile number"""
        with transaction() as session:
            return accounts.register_customer(session, **data)


@auth.route("/login")
class Login(MethodView):
    @auth.arguments(LoginSchema)
    @auth.response(200, TokenSchema)
    def post(self, data):
        """Log in: an access token (RS256 JWT) and a refresh token"""
        with transaction() as session:
            result = accounts.login(session, data["password"], _config(), _signer(), data["email"], data["mobile"],
                                    client_address())
        return _raise_if_error(result)


@auth.route("/refresh")
class Refresh(MethodView):
    @auth.arguments(RefreshSchema)
    @auth.response(200, TokenSchema)
    def post(self, data):
        """Trade a refresh token for a new pair (the old one is spent)"""
        with transaction() as session:
            result = accounts.refresh_tokens(session, data["refresh_token"], _signer())
        return _raise_if_error(result)


@auth.route("/logout")
class Logout(MethodView):
    @auth.arguments(RefreshSchema)
    @auth.response(204)
    def post(self, data):
        """Log out: revoke the refresh token (and any rotated from the same login)"""
        try:  # the access token presented with it is revoked too, if it still counts
            presented = current_identity()
        except Unauthorized:
            presented = None
        with transaction() as session:
            accounts.logout(session, data["refresh_token"], _config().access_token_ttl, presented)


@auth.route("/me")
class AuthMe(MethodView):
    @requires("customer")
    @auth.response(200, ProfileSchema)
    def get(self):
        """The account the token belongs to"""
        with transaction() as session:
            return accounts.get_account(session, require().id)


@auth.route("/password")
class Password(MethodView):
    @requires("customer")
    @auth.arguments(PasswordChangeSchema)
    @auth.response(204)
    def post(self, data):
        """Change the password (logs out every other session)"""
        with transaction() as session:
            accounts.change_password(session, require().id, data["current_password"], data["new_password"],
                                     _config().access_token_ttl)


@auth.route("/staff")
class Staff(MethodView):
    @requires("admin")
    @auth.arguments(StaffSchema)
    @auth.response(201, ProfileSchema)
    def post(self, data):
        """Create a staff (or admin) account (admin)"""
        with transaction() as session:
            return accounts.create_account(session, **data)


# ---- the customer's own data -----------------------------------------------------------------
@me.route("")
class Profile(MethodView):
    @requires("customer")
    @me.response(200, ProfileSchema)
    def get(self):
        """My profile"""
        with transaction() as session:
            return accounts.get_account(session, require().id)

    @requires("customer")
    @me.arguments(ProfileUpdateSchema)
    @me.response(200, ProfileSchema)
    def patch(self, changes):
        """Change my name, email or mobile"""
        with transaction() as session:
            return services.update_profile(session, require().id, changes)


@me.route("/addresses")
class Addresses(MethodView):
    @requires("customer")
    @me.response(200, AddressSchema(many=True))
    def get(self):
        """My address book, the default first"""
        with transaction() as session:
            return services.list_addresses(session, require().id)

    @requires("customer")
    @me.arguments(AddressSchema)
    @me.response(201, AddressSchema)
    def post(self, data):
        """Save a shipping address"""
        with transaction() as session:
            return services.add_address(session, require().id, data)


@me.route("/addresses/<address_id>")
class AddressDetail(MethodView):
    @requires("customer")
    @me.response(200, AddressSchema)
    def get(self, address_id):
        """One of my addresses (checkout copies it into the order)"""
        with transaction() as session:
            return services.get_address(session, require().id, address_id)

    @requires("customer")
    @me.arguments(AddressUpdateSchema)
    @me.response(200, AddressSchema)
    def patch(self, changes, address_id):
        """Change an address or make it the default"""
        with transaction() as session:
            return services.update_address(session, require().id, address_id, changes)

    @requires("customer")
    @me.response(204)
    def delete(self, address_id):
        """Remove an address"""
        with transaction() as session:
            services.delete_address(session, require().id, address_id)


@me.route("/orders")
class PurchaseHistory(MethodView):
    @requires("customer")
    @me.arguments(PageArgs, location="query")
    @me.response(200, page_schema(PurchaseSchema))
    def get(self, args):
        """My purchase history, newest first"""
        with transaction() as session:
            return paginate(session, services.purchases(require().id), args["page"], args["per_page"])


@me.route("/membership")
class Membership(MethodView):
    @requires("customer")
    @me.response(200, MembershipSchema)
    def get(self):
        """My points, tier, what the next tier needs and the latest ledger entries"""
        with transaction() as session:
            return membership.membership_summary(session, require().id, _config())


# ---- staff -----------------------------------------------------------------------------------
@customers.route("")
class Customers(MethodView):
    @requires("staff")
    @customers.arguments(CustomerQueryArgs, location="query")
    @customers.response(200, page_schema(ProfileSchema))
    def get(self, args):
        """Customers, newest first, found by part of their name, email or mobile (staff)"""
        with transaction() as session:
            return paginate(session, services.customer_list(args.get("q")), args["page"], args["per_page"])


@customers.route("/<customer_id>/points")
class CustomerPoints(MethodView):
    @requires("staff")
    @customers.arguments(PointsAdjustmentSchema)
    @customers.response(201, PointsEntrySchema)
    def post(self, data, customer_id):
        """Add or remove a customer's points with a reason (staff)"""
        with transaction() as session:
            accounts.get_account(session, customer_id)
            return membership.adjust_points(session, customer_id, data["points"], data["reason"], require().id,
                                            _config())


@customers.route("/<customer_id>")
class CustomerOverview(MethodView):
    @requires("staff")
    @customers.response(200, CustomerOverviewSchema)
    def get(self, customer_id):
        """A customer on one page: profile, latest orders, points and tickets (staff)"""
        with transaction() as session:
            return services.customer_overview(session, customer_id, _config(), require())
