"""Error bodies in the shapes the real services send (see README, behaviour table)."""

import base64
import datetime
import uuid

ODATA_SERVICE_EXCEPTION = "Microsoft.Exchange.Admin.OData.Core.ODataServiceException"
NOT_FOUND_TYPE = "Microsoft.Exchange.Configuration.Tasks.ManagementObjectNotFoundException"
AMBIGUOUS_TYPE = "Microsoft.Exchange.Configuration.Tasks.ManagementObjectAmbiguousException"
PARAMETER_SET_TYPE = "Microsoft.Exchange.AdminApi.CommandInvocation.AmbiguousParameterSetException"
TRANSFORMATION_TYPE = "Microsoft.Exchange.AdminApi.CommandInvocation.ParameterTransformationException"
BINDING_TYPE = "Microsoft.Exchange.AdminApi.CommandInvocation.ParameterBindingException"
INVALID_OPERATION_TYPE = "System.InvalidOperationException"
NUL_BODY = b"\x00" * 4096
NUL_BODY_B64 = base64.urlsafe_b64encode(NUL_BODY).decode().rstrip("=")


class ExchangeError(Exception):
    """A cmdlet failure: HTTP status plus the JSON body the admin API returns for it."""

    def __init__(self, status, body, headers=None):
        super().__init__(status)
        self.status = status
        self.body = body
        self.headers = headers or {}


def cmdlet_error(status, code, message, exc_type, text, error_id="", detail_code="Client", details=True):
    """``{"error":{code,message,details:[{code,target,message:"id|type|text"}],innererror:{...}}}``."""
    error = {"code": code, "message": message}
    if details:
        error["details"] = [{"code": detail_code, "target": "", "message": "%s|%s|%s" % (error_id, exc_type, text)}]
    error["innererror"] = {"message": message, "type": ODATA_SERVICE_EXCEPTION, "stacktrace": "",
                           "internalexception": {"message": text, "type": exc_type, "stacktrace": ""}}
    error["adminapi.warnings@odata.type"] = "#Collection(String)"
    error["@adminapi.warnings"] = []
    return ExchangeError(status, {"error": error})


def not_found(identity, server):
    text = "The operation couldn't be performed because object '%s' couldn't be found on '%s'." % (identity, server)
    return cmdlet_error(404, "NotFound", "Error executing cmdlet", NOT_FOUND_TYPE, text, error_id="Ex6F9304")


def ambiguous(identity):
    text = "The operation couldn't be performed because '%s' matches multiple entries." % identity
    return cmdlet_error(400, "BadRequest", "Error executing cmdlet", AMBIGUOUS_TYPE, text, error_id="Ex0DEF07",
                        detail_code="Context")


def parameter_set(text="Parameter set cannot be resolved using the specified named parameters."):
    return cmdlet_error(400, "BadRequest", "Invalid Operation", PARAMETER_SET_TYPE, text)


def unknown_parameter(name):
    return parameter_set("Parameter set cannot be resolved using the specified named parameters. "
                         "Invalid cmdlet parameters specified. %s" % name)


def missing_parameters():
    return parameter_set("Parameter set cannot be resolved using the specified named parameters. One or more "
                         "parameters issued cannot be used together or an insufficient number of parameters "
                         "were provided.")


def transformation(parameter, value, type_name, reason):
    text = ("Cannot process argument transformation on parameter '%s'. Cannot convert value \"%s\" to type \"%s\". "
            "Error: \"%s\"" % (parameter, value, type_name, reason))
    # The live capture of this error carries no details array, only innererror.
    return cmdlet_error(400, "BadRequest", "Invalid Operation", TRANSFORMATION_TYPE, text, details=False)


def invalid_enum(parameter, value, type_name, valid_names):
    reason = ("Unable to match the identifier name %s to a valid enumerator name. Specify one of the following "
              "enumerator names and try again: %s" % (value, ", ".join(valid_names)))
    return transformation(parameter, value, type_name, reason)


def binding_validation(parameter, what):
    text = "Cannot bind argument to parameter '%s' because it is %s." % (parameter, what)
    return cmdlet_error(400, "BadRequest", "Invalid Operation", BINDING_TYPE, text)


def filter_error(text):
    full = "Cannot bind parameter 'Filter' to the target. Exception setting \"Filter\": \"%s\"" % text
    return cmdlet_error(400, "BadRequest", "Invalid Operation", BINDING_TYPE, full)


def invalid_operation(text, status=400):
    return cmdlet_error(status, "BadRequest", "Error executing cmdlet", INVALID_OPERATION_TYPE, text)


def acl_limit(mailbox_guid):
    return invalid_operation("The mailbox %s has reached the limit of maximum allowed access control entries of 500. "
                             "Clean existing entries and rearrange them leveraging groups for assigning the same "
                             "permissions to multiple users." % mailbox_guid)


def pagination_expired(expiry_seconds=1800):
    hours, rest = divmod(int(expiry_seconds), 3600)
    minutes, seconds = divmod(rest, 60)
    text = "Expired or Invalid pagination request. Default Expiry time is %02d:%02d:%02d" % (hours, minutes, seconds)
    return cmdlet_error(400, "BadRequest", "Invalid Operation", ODATA_SERVICE_EXCEPTION, text)


def bad_request(text):
    return cmdlet_error(400, "BadRequest", "Invalid Operation", ODATA_SERVICE_EXCEPTION, text)


def throttled(retry_after, concurrency=True):
    if concurrency:
        text = ("You have reached the maximum number of concurrent requests per tenant. Please wait for the "
                "previous requests to complete and try again.")
    else:
        text = ("The request was throttled because the tenant exceeded its request budget. "
                "Suggested backoff time: %s seconds." % retry_after)
    err = cmdlet_error(429, "TooManyRequests", text, "Microsoft.Exchange.Admin.OData.Core.ThrottlingException", text)
    err.headers["Retry-After"] = str(retry_after)
    return err


SERVER_ERRORS = {
    500: ("InternalServerError", "An internal server error occurred. The operation failed."),
    502: ("BadGateway", "The server, while acting as a gateway or proxy, received an invalid response."),
    503: ("ServiceUnavailable", "The service is temporarily unavailable. Please try again later."),
    504: ("GatewayTimeout", "The operation has timed out."),
}


def server_error(status):
    """A transient 5xx. 502/504 come from the front door as HTML, 500/503 as the JSON envelope."""
    code, text = SERVER_ERRORS.get(status, ("InternalServerError", "An internal server error occurred."))
    if status in (502, 504):
        html = "<html><head><title>%d %s</title></head><body><h1>%s</h1></body></html>" % (status, code, text)
        err = ExchangeError(status, html.encode())
        err.headers["Content-Type"] = "text/html; charset=utf-8"
        return err
    return cmdlet_error(status, code, text, ODATA_SERVICE_EXCEPTION, text)


def unauthorized(reason):
    body = {"error": {"code": "InvalidAuthenticationToken", "message": reason}}
    return ExchangeError(401, body)


# -- Entra ID -------------------------------------------------------------------

class EntraError(Exception):
    """An OAuth error response from the token endpoint or discovery."""

    def __init__(self, status, error, code, description, headers=None):
        super().__init__(description)
        self.status = status
        self.error = error
        self.code = code
        self.description = description
        self.headers = headers or {}

    def body(self, correlation_id=None):
        now = datetime.datetime.now(datetime.timezone.utc)
        stamp = now.strftime("%Y-%m-%d %H:%M:%SZ")
        trace_id = str(uuid.uuid4())
        correlation_id = correlation_id or str(uuid.uuid4())
        description = "AADSTS%d: %s Trace ID: %s Correlation ID: %s Timestamp: %s" % (
            self.code, self.description, trace_id, correlation_id, now.strftime("%Y-%m-%d %H:%M:%S") + "Z")
        return {"error": self.error, "error_description": description, "error_codes": [self.code],
                "timestamp": stamp, "trace_id": trace_id, "correlation_id": correlation_id,
                "error_uri": "https://login.microsoftonline.com/error?code=%d" % self.code}


def entra_tenant_not_found(tenant):
    return EntraError(400, "invalid_tenant", 90002,
                      "Tenant '%s' not found. Check to make sure you have the correct tenant ID and are signing into "
                      "the correct cloud. Check with your subscription administrator, this may happen if there are no "
                      "active subscriptions for the tenant." % tenant)
