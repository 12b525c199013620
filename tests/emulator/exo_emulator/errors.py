"""Error bodies in the shapes the real services send (see README, behaviour table)."""

import base64
import datetime
import json
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
    """A cmdlet failure: HTTP status plus the JSON body the admin API returns for it.

    ``kind`` ("not_found", "ambiguous") and ``identity`` let the API reshape the error the way the live service
    varies it (see ``shaped``)."""

    def __init__(self, status, body, headers=None, kind=None, identity=None):
        super().__init__(status)
        self.status = status
        self.body = body
        self.headers = headers or {}
        self.kind = kind
        self.identity = identity
        self.server = None


def cmdlet_error(status, code, message, exc_type, text, error_id="", detail_code="Client", details=True,
                 detail_format="pipe"):
    """``{"error":{code,message,details:[{code,target,message}],innererror:{...}}}``; the detail message is
    ``"id|type|text"`` (``detail_format="pipe"``) or a JSON string ``{"Message","TypeName"}`` (``"json"``)."""
    error = {"code": code, "message": message}
    if details:
        if detail_format == "json":
            detail = json.dumps({"Message": text, "TypeName": exc_type}, ensure_ascii=False)
        else:
            detail = "%s|%s|%s" % (error_id, exc_type, text)
        error["details"] = [{"code": detail_code, "target": "", "message": detail}]
    error["innererror"] = {"message": message, "type": ODATA_SERVICE_EXCEPTION, "stacktrace": "",
                           "internalexception": {"message": text, "type": exc_type, "stacktrace": ""}}
    error["adminapi.warnings@odata.type"] = "#Collection(String)"
    error["@adminapi.warnings"] = []
    return ExchangeError(status, {"error": error})


NOT_FOUND_SHAPES = ("404", "404-json", "500", "500-json")
AMBIGUOUS_SHAPES = ("not_found", "ambiguous")


def not_found(identity, server, shape="404"):
    """The not-found error in one of its live shapes: 404 or 500, detail as ``id|type|text`` or as JSON."""
    text = "The operation couldn't be performed because object '%s' couldn't be found on '%s'." % (identity, server)
    status, code = (500, "InternalServerError") if shape.startswith("500") else (404, "NotFound")
    err = cmdlet_error(status, code, "Error executing cmdlet", NOT_FOUND_TYPE, text, error_id="Ex6F9304",
                       detail_format="json" if shape.endswith("json") else "pipe")
    err.kind, err.identity, err.server = "not_found", identity, server
    return err


def ambiguous(identity, shape="ambiguous"):
    """Two live shapes: ManagementObjectAmbiguousException (400), or the same text typed as
    ManagementObjectNotFoundException (404, PS365 capture)."""
    text = "The operation couldn't be performed because '%s' matches multiple entries." % identity
    if shape == "not_found":
        err = cmdlet_error(404, "NotFound", "Error executing cmdlet", NOT_FOUND_TYPE, text, error_id="Ex6F9304")
    else:
        err = cmdlet_error(400, "BadRequest", "Error executing cmdlet", AMBIGUOUS_TYPE, text, error_id="Ex0DEF07",
                           detail_code="Context")
    err.kind, err.identity = "ambiguous", identity
    return err


def shaped(err, not_found_shape, ambiguous_shape):
    """The same error in the shape the settings ask for (a shape chosen per call, see ExchangeApi)."""
    if err.kind == "not_found" and not_found_shape != "404":
        return not_found(err.identity, err.server, not_found_shape)
    if err.kind == "ambiguous" and ambiguous_shape != "ambiguous":
        return ambiguous(err.identity, ambiguous_shape)
    return err


def missing_identity(cmdlet):
    """A cmdlet whose Identity is mandatory called without it: 400 "Invalid Operation" (graph2otel saw it for
    Get-MailboxPermission); the detail text is PowerShell's binding error."""
    text = "Cannot process command because of one or more missing mandatory parameters: Identity."
    err = cmdlet_error(400, "BadRequest", "Invalid Operation", BINDING_TYPE, text)
    err.kind = "missing_identity"
    return err


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
