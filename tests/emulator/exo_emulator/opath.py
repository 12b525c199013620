"""OPATH ``-Filter`` parser: tokens -> AST -> predicate. Values never escape their quotes."""

import datetime
import re

SYNTAX_HELP = "Invalid filter syntax. For a description of the filter parameter syntax see the command help."
COMPARISONS = frozenset(("eq", "ne", "like", "notlike", "gt", "ge", "lt", "le"))
LOGICAL = frozenset(("and", "or", "not"))
VARIABLES = {"true": True, "false": False, "null": None}


class FilterError(Exception):
    """Raised with PowerShell's wording; ``exchange.py`` turns it into a 400 body."""


class Token:
    __slots__ = ("kind", "value", "pos")

    def __init__(self, kind, value, pos):
        self.kind = kind
        self.value = value
        self.pos = pos


class Property:
    """A filterable property: kind is string, multi, bool, date, enum or member."""

    __slots__ = ("name", "kind", "getter", "enum")

    def __init__(self, name, kind, getter, enum=None):
        self.name = name
        self.kind = kind
        self.getter = getter
        self.enum = enum


def _syntax_error(text, pos):
    return FilterError('%s\n"%s" at position %d.' % (SYNTAX_HELP, text, pos + 1))


def _read_quoted(text, start):
    quote = text[start]
    out = []
    i = start + 1
    while i < len(text):
        char = text[i]
        if char == quote:
            if i + 1 < len(text) and text[i + 1] == quote:
                out.append(quote)
                i += 2
                continue
            return "".join(out), i + 1
        out.append(char)
        i += 1
    raise _syntax_error(text, start)


def tokenize(text):
    tokens = []
    i, length = 0, len(text)
    while i < length:
        char = text[i]
        if char.isspace():
            i += 1
        elif char in "()":
            tokens.append(Token("lparen" if char == "(" else "rparen", char, i))
            i += 1
        elif char in "'\"":
            value, end = _read_quoted(text, i)
            tokens.append(Token("string", value, i))
            i = end
        elif char == "-" and i + 1 < length and text[i + 1].isalpha():
            match = re.match(r"-([A-Za-z]+)", text[i:])
            word = match.group(1).lower()
            if word in COMPARISONS:
                tokens.append(Token("op", word, i))
            elif word in LOGICAL:
                tokens.append(Token(word, word, i))
            else:
                raise _syntax_error(text, i)
            i += len(match.group(0))
        elif char == "$":
            match = re.match(r"\$([A-Za-z]+)", text[i:])
            if not match or match.group(1).lower() not in VARIABLES:
                raise _syntax_error(text, i)
            tokens.append(Token("variable", VARIABLES[match.group(1).lower()], i))
            i += len(match.group(0))
        else:
            match = re.match(r"[^\s()'\"]+", text[i:])
            tokens.append(Token("word", match.group(0), i))
            i += len(match.group(0))
            if i < length and text[i] in "'\"":
                raise _syntax_error(text, i)
    return tokens


class _Parser:
    def __init__(self, text, properties):
        self.text = text
        self.tokens = tokenize(text)
        self.pos = 0
        self.properties = properties

    def peek(self):
        return self.tokens[self.pos] if self.pos < len(self.tokens) else None

    def take(self, kind=None):
        token = self.peek()
        if token is None or (kind and token.kind != kind):
            raise _syntax_error(self.text, token.pos if token else len(self.text))
        self.pos += 1
        return token

    def parse(self):
        if not self.tokens:
            raise _syntax_error(self.text, 0)
        node = self.parse_or()
        if self.peek() is not None:
            raise _syntax_error(self.text, self.peek().pos)
        return node

    def parse_or(self):
        node = self.parse_and()
        while self.peek() is not None and self.peek().kind == "or":
            self.take()
            node = ("or", node, self.parse_and())
        return node

    def parse_and(self):
        node = self.parse_unary()
        while self.peek() is not None and self.peek().kind == "and":
            self.take()
            node = ("and", node, self.parse_unary())
        return node

    def parse_unary(self):
        token = self.peek()
        if token is not None and token.kind == "not":
            self.take()
            return ("not", self.parse_unary())
        if token is not None and token.kind == "lparen":
            self.take()
            node = self.parse_or()
            self.take("rparen")
            return node
        return self.parse_comparison()

    def parse_comparison(self):
        name = self.take("word")
        prop = self.properties.get(name.value.lower())
        if prop is None:
            raise FilterError("'%s' is not a recognized filterable property. For a list of accepted properties, "
                              "please see the cmdlet help for the Filter parameter." % name.value)
        operator = self.take("op")
        value = self.peek()
        if value is None or value.kind not in ("string", "word", "variable"):
            raise _syntax_error(self.text, value.pos if value else len(self.text))
        self.take()
        return ("cmp", prop, operator.value, value.value)


def _wildcard(pattern):
    return re.compile("^" + ".*".join(re.escape(part) for part in pattern.split("*")) + "$", re.IGNORECASE | re.DOTALL)


def _as_text(value):
    if value is None:
        return ""
    if isinstance(value, bool):
        return "True" if value else "False"
    return str(value)


def _parse_bool(value):
    if isinstance(value, bool) or value is None:
        return bool(value)
    text = str(value).strip().lower()
    if text in ("true", "1"):
        return True
    if text in ("false", "0"):
        return False
    raise FilterError('The value "%s" could not be converted to type System.Boolean.' % value)


def _parse_date(value):
    text = _as_text(value).strip()
    for fmt in ("%m/%d/%Y %H:%M:%S", "%m/%d/%Y", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d"):
        try:
            parsed = datetime.datetime.strptime(text.replace("Z", "").split("+", maxsplit=1)[0], fmt)
            return parsed.replace(tzinfo=datetime.timezone.utc).timestamp()
        except ValueError:
            continue
    raise FilterError('The value "%s" could not be converted to type System.DateTime.' % text)


def _ordered(operator, left, right):
    return {"gt": left > right, "ge": left >= right, "lt": left < right, "le": left <= right}[operator]


def _string_test(operator, raw):
    text = _as_text(raw).lower()
    if operator in ("like", "notlike"):
        regex = _wildcard(text)
        return lambda candidate: regex.match(candidate) is not None
    if operator in ("eq", "ne"):
        return lambda candidate: candidate.lower() == text
    return lambda candidate: _ordered(operator, candidate.lower(), text)


def _compile_cmp(prop, operator, raw, context):
    negate = operator in ("ne", "notlike")
    getter = prop.getter
    if prop.kind == "member":
        if operator not in ("eq", "ne"):
            raise FilterError("The operator '-%s' isn't supported for the property 'MemberOfGroup'." % operator)
        members = context.group_members(_as_text(raw))
        return lambda rec: (id(rec) in members) != negate
    if prop.kind == "bool":
        wanted = _parse_bool(raw)
        if operator not in ("eq", "ne"):
            raise FilterError("The operator '-%s' isn't supported for a Boolean property." % operator)
        return lambda rec: (bool(getter(rec)) == wanted) != negate
    if prop.kind == "date":
        wanted = _parse_date(raw)
        if operator in ("like", "notlike"):
            raise FilterError("The operator '-%s' isn't supported for the property '%s'." % (operator, prop.name))
        if operator in ("eq", "ne"):
            return lambda rec: (int(getter(rec)) == int(wanted)) != negate
        return lambda rec: _ordered(operator, getter(rec), wanted)
    if prop.kind == "enum" and operator in ("eq", "ne") and raw is not None:
        if _as_text(raw).lower() not in prop.enum:
            raise FilterError('The value "%s" could not be converted to type %s.' % (raw, prop.enum.type_name))
    if raw is None:
        if prop.kind == "multi":
            return lambda rec: (len(getter(rec)) == 0) != negate
        return lambda rec: (_as_text(getter(rec)) == "") != negate
    test = _string_test(operator, raw)
    if prop.kind == "multi":
        def multi(rec):
            for item in getter(rec):
                bare = item.split(":", 1)[1] if ":" in item else item
                if test(item) or test(bare):
                    return not negate
            return negate
        return multi
    return lambda rec: test(_as_text(getter(rec))) != negate


def _compile(node, context):
    kind = node[0]
    if kind == "cmp":
        return _compile_cmp(node[1], node[2], node[3], context)
    if kind == "not":
        inner = _compile(node[1], context)
        return lambda rec: not inner(rec)
    left, right = _compile(node[1], context), _compile(node[2], context)
    if kind == "and":
        return lambda rec: left(rec) and right(rec)
    return lambda rec: left(rec) or right(rec)


class EnumValues(frozenset):
    """Lower-case valid values of an enum property, with the .NET type name for errors."""

    type_name = ""

    @classmethod
    def of(cls, names, type_name):
        values = cls(n.lower() for n in names)
        values.type_name = type_name
        return values


def compile_filter(text, properties, context):
    """Predicate for ``text``; ``properties`` maps lower-case names to ``Property``.

    ``context.group_members(identity)`` returns the ids of a group's direct members (MemberOfGroup).
    """
    if not isinstance(text, str):
        raise FilterError('%s\n"%s" at position 1.' % (SYNTAX_HELP, text))
    return _compile(_Parser(text, properties).parse(), context)
