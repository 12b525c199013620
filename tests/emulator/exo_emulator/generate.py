"""Deterministic tenant generator: n ordinary mailboxes plus a fixed set of documented hard cases."""

import random
import uuid

from . import seed as hard_delegations

from .tenant import (DG, FULL_ACCESS, GROUP_MAILBOX, MAIL_USER, MESG, READ_PERMISSION, SELF_SID, USER, USG,
                     Ace, Recipient, Tenant, DEFAULT_ACL)

TENANT_NAMESPACE = uuid.UUID("0b6a8f57-3c2e-4d8e-9f4b-1a2c3d4e5f60")
BASE_TIME = 1546300800.0  # 2019-01-01

FIRST_NAMES = ("Adele", "Alex", "Allan", "Amir", "Ana", "Ben", "Bianca", "Carlos", "Chen", "Chloe", "Daniel", "Diego",
               "Elena", "Emma", "Fatima", "Finn", "Grace", "Hana", "Hugo", "Ines", "Isaac", "Jack", "Jana", "Kai",
               "Karin", "Lara", "Leo", "Lina", "Lucas", "Maya", "Megan", "Mia", "Nadia", "Nathan", "Nina", "Noah",
               "Olga", "Omar", "Paula", "Priya", "Quentin", "Rosa", "Ryan", "Sara", "Sofia", "Tariq", "Theo", "Uma",
               "Victor", "Wei", "Yara", "Yusuf", "Zane", "Zara")
LAST_NAMES = ("Adams", "Baker", "Bauer", "Becker", "Brown", "Castro", "Clark", "Costa", "Davis", "Dubois", "Evans",
              "Fischer", "Garcia", "Green", "Hall", "Hansen", "Ito", "Jansen", "Johnson", "Kim", "Kowalski", "Lee",
              "Lopez", "Martin", "Meyer", "Moreau", "Murphy", "Nguyen", "Novak", "Olsen", "Park", "Patel", "Perez",
              "Rossi", "Sato", "Schmidt", "Silva", "Singh", "Smith", "Suzuki", "Taylor", "Thomas", "Wagner", "Walker",
              "Wang", "Weber", "White", "Wilson", "Wright", "Young")
DEPARTMENTS = ("Finance", "Sales", "Marketing", "Engineering", "Legal", "HR", "Operations", "Support", "IT", "Research")
PLACES = (("Seattle", "United States", "SEA-1"), ("London", "United Kingdom", "LON-2"), ("Paris", "France", "PAR-3"),
          ("Berlin", "Germany", "BER-1"), ("Tokyo", "Japan", "TYO-4"), ("Sydney", "Australia", "SYD-2"),
          ("Toronto", "Canada", "YYZ-1"), ("Madrid", "Spain", "MAD-5"))
COMPANY = "Contoso Ltd"


class _Builder:
    """Creates recipients with deterministic GUIDs, SIDs and addresses for one tenant."""

    def __init__(self, tenant, rng):
        self.tenant = tenant
        self.rng = rng
        self.rid = 1100
        self.used_aliases = set()

    def guid(self):
        return str(uuid.UUID(int=self.rng.getrandbits(128), version=4))

    def next_sid(self):
        self.rid += 1
        return "%s-%d" % (self.tenant.sid_domain, self.rid)

    def orphan_sid(self, number):
        return "S-1-5-21-2945127412-1848212957-3901842213-%d" % (20000 + number)

    def when(self):
        return BASE_TIME + self.rng.randrange(0, 5 * 365 * 86400)

    def person(self, rtd, alias, display, first="", last="", sku=None, place=None, department="", **extra):
        self.used_aliases.add(alias.lower())
        domain = self.tenant.domain
        city, country, office = place or ("", "", "")
        has_mail = rtd != USER
        upn = "%s@%s" % (alias, domain)
        fields = {
            "exchange_guid": self.guid() if rtd not in (USER, MAIL_USER) else "", "edoid": self.guid(),
            "sid": self.next_sid(), "alias": alias if has_mail else "", "display_name": display, "upn": upn,
            "primary_smtp": upn if has_mail else "", "first_name": first, "last_name": last,
            "department": department, "office": office, "city": city, "country": country,
            "company": COMPANY if first else "", "when_created": self.when(),
            "sku_assigned": (rtd == "UserMailbox") if sku is None else sku}
        fields.update(extra)
        return self.tenant.add(Recipient(rtd, self.guid(), alias, **fields))

    def group(self, rtd, name, alias, members=(), owners=None, mail=True):
        if alias:
            self.used_aliases.add(alias.lower())
        domain = self.tenant.domain
        fields = {
            "exchange_guid": self.guid() if rtd == GROUP_MAILBOX else "", "edoid": self.guid(),
            "sid": self.next_sid(), "alias": alias if mail else "", "display_name": name,
            "primary_smtp": "%s@%s" % (alias, domain) if mail else "", "when_created": self.when(),
            "members": list(members), "owners": list(owners) if owners is not None else None}
        return self.tenant.add(Recipient(rtd, self.guid(), name, **fields))


def _grant(mailbox, trustee_sid, rights=FULL_ACCESS, deny=False, inherited=False):
    acl = list(mailbox.aces())
    acl.append(Ace(trustee_sid, rights, deny, "All", inherited))
    mailbox.acl = acl


def _hard_cases(b):
    """The fixed, documented objects tests rely on (see README, "Hard cases")."""
    seattle = PLACES[0]
    people = {}

    def mbx(alias, display, rtd="UserMailbox", first="", last="", **kw):
        people[alias] = b.person(rtd, alias, display, first, last, place=kw.pop("place", seattle), **kw)
        return people[alias]

    mbx("archive.admin", "Archive Admin", first="Archive", last="Admin", department="IT")
    mbx("helpdesk", "Helpdesk", first="Help", last="Desk", department="IT")
    mbx("nolicense.admin", "No License Admin", first="NoLicense", last="Admin", sku=False, department="IT")
    people["nomailbox.admin"] = b.person(MAIL_USER, "nomailbox.admin", "No Mailbox Admin", "NoMailbox", "Admin",
                                         sku=False, department="IT")
    people["user.only"] = b.person(USER, "user.only", "User Only", "User", "Only", sku=False)
    mbx("ceo", "Morgan Chen (CEO)", first="Morgan", last="Chen", department="Executive")
    mbx("legal.hold", "Legal Hold", first="Legal", last="Hold", department="Legal")
    mbx("john.smith", "John Smith", first="John", last="Smith", department="Sales")
    mbx("jane.smith", "Jane Smith", first="Jane", last="Smith", department="Finance")
    mbx("alex.martin", "Alex Martin", first="Alex", last="Martin", department="Sales")
    mbx("alex.martin2", "Alex Martin", first="Alex", last="Martin", department="Marketing", place=PLACES[2])
    mbx("pat.o'neil", "Pat O'Neil", first="Pat", last="O'Neil", department="Finance")
    mbx("zoe.muller", "Zoë Müller", first="Zoë", last="Müller", department="Finance", place=PLACES[3])
    mbx("jose.nunez", "José Núñez", first="José", last="Núñez", department="Finance", place=PLACES[7])
    mbx("wang.xiaoming", "王小明", first="小明", last="王", department="Research", place=PLACES[4])
    obrien = mbx("obrien.sons", "O'Brien & Sons", rtd="SharedMailbox")
    obrien.name = "O'Brien & Sons"
    for alias, display in (("info", "Info"), ("support", "Support")):
        mbx(alias, display, rtd="SharedMailbox")
    mbx("room.atlantic", "Atlantic Room", rtd="RoomMailbox")
    mbx("projector.1", "Projector 1", rtd="EquipmentMailbox")
    for alias, display in (("restricted", "Restricted Mailbox"), ("inherited", "Inherited Permissions"),
                           ("orphans", "Orphaned Trustees"), ("full.acl", "Full ACL")):
        mbx(alias, display, first=display.split()[0], last="Mailbox")
    mbx("left.company", "Left Company", first="Left", last="Company", soft_deleted=True)
    mbx("former.employee", "Former Employee", first="Former", last="Employee", inactive=True)
    return people


def _fix_aliases(tenant, people):
    """john.smith and jane.smith share the alias ``jsmith``; re-index after changing fields."""
    for key in ("john.smith", "jane.smith"):
        people[key].alias = "jsmith"
    john = people["john.smith"]
    john.email_addresses = ("SMTP:" + john.primary_smtp, "smtp:jsmith@" + tenant.domain,
                            "smtp:john.smith@" + tenant.routing_domain)


def _hard_groups(b, p):
    archive_ops = b.group(MESG, "Archive Operators", "archive-operators", [p["archive.admin"]])
    b.group(USG, "Legacy Admins", "", [p["helpdesk"]], mail=False)
    paris = b.group(DG, "Finance Paris", "finance.paris", [p["pat.o'neil"], p["jane.smith"]])
    emea = b.group(DG, "Finance EMEA", "finance.emea", [p["jose.nunez"], p["zoe.muller"], paris])
    b.group(DG, "Finance", "finance", [p["ceo"], p["alex.martin"], emea])
    loop_a = b.group(DG, "Loop A", "loop.a", [p["john.smith"]])
    loop_b = b.group(DG, "Loop B", "loop.b", [p["alex.martin2"], loop_a])
    loop_a.members.append(loop_b)
    b.group(GROUP_MAILBOX, "Project Phoenix", "project.phoenix",
            [p["ceo"], p["archive.admin"], p["zoe.muller"]], owners=[p["ceo"]])
    return archive_ops


def _hard_acls(b, p, archive_ops):
    admin, helpdesk = p["archive.admin"].sid, p["helpdesk"].sid
    _grant(p["ceo"], admin)
    _grant(p["legal.hold"], admin)
    for alias in ("info", "support", "room.atlantic"):
        _grant(p[alias], helpdesk)
    _grant(p["restricted"], helpdesk, deny=True)
    _grant(p["inherited"], admin, inherited=True)
    _grant(p["inherited"], archive_ops.sid, READ_PERMISSION, inherited=True)
    _grant(p["inherited"], SELF_SID, READ_PERMISSION, inherited=True)
    for number in range(3):
        _grant(p["orphans"], b.orphan_sid(number))
    _grant(p["orphans"], b.orphan_sid(3), READ_PERMISSION, deny=True)
    full = list(DEFAULT_ACL)
    full.extend(Ace(b.orphan_sid(1000 + i), FULL_ACCESS) for i in range(499))
    p["full.acl"].acl = full
    _grant(p["support"], p["left.company"].sid)


def _unique_alias(b, base):
    alias, number = base, 1
    while alias.lower() in b.used_aliases:
        number += 1
        alias = "%s%d" % (base, number)
    return alias


def _ordinary(b, n):
    rng = b.rng
    users, mailboxes = [], []
    for i in range(n):
        slot = i % 100
        place = PLACES[rng.randrange(len(PLACES))]
        if slot < 2:
            mailboxes.append(("group", i))
            continue
        if slot < 7:
            rec = b.person("SharedMailbox", _unique_alias(b, "shared.%s" % rng.choice(DEPARTMENTS).lower()),
                           "Shared %d" % i, place=place)
        elif slot < 9:
            rec = b.person("RoomMailbox", _unique_alias(b, "room.%d" % i), "Room %d" % i, place=place)
        elif slot == 9:
            rec = b.person("EquipmentMailbox", _unique_alias(b, "equipment.%d" % i), "Equipment %d" % i, place=place)
        else:
            first, last = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
            alias = _unique_alias(b, "%s.%s" % (first.lower(), last.lower()))
            custom = None
            if rng.random() < 0.2:
                custom = ("DEP-%03d" % rng.randrange(100),) + ("",) * 13 + ("EMP%06d" % i,)
            rec = b.person("UserMailbox", alias, "%s %s" % (first, last), first, last, place=place,
                           department=rng.choice(DEPARTMENTS), sku=rng.random() < 0.97,
                           hidden=rng.random() < 0.01, custom=custom)
            users.append(rec)
        mailboxes.append(("mailbox", rec))
    return users, mailboxes


def _ordinary_groups(b, n, users, mailboxes):
    rng = b.rng
    for kind, value in mailboxes:
        if kind == "group":
            members = rng.sample(users, min(len(users), rng.randint(3, 8))) if users else []
            b.group(GROUP_MAILBOX, "Team %d" % value, _unique_alias(b, "team.%d" % value), members,
                    owners=members[:1])
    for i in range(n // 50):
        b.person(MAIL_USER, _unique_alias(b, "guest.%d" % i), "Guest %d" % i, sku=False)
    for i in range(n // 100):
        b.person(USER, _unique_alias(b, "account.%d" % i), "Account %d" % i, sku=False)
    for i in range(n // 200):
        members = rng.sample(users, min(len(users), rng.randint(5, 15))) if users else []
        b.group(DG, "Distribution %d" % i, _unique_alias(b, "dl.%d" % i), members)
    for i in range(n // 500):
        members = rng.sample(users, min(len(users), rng.randint(3, 10))) if users else []
        b.group(MESG, "Security %d" % i, _unique_alias(b, "sg.%d" % i), members)


def _ordinary_delegations(b, users):
    rng = b.rng
    if len(users) < 2:
        return
    for rec in users:
        if rng.random() < 0.03:
            trustee = rng.choice(users)
            if trustee is not rec:
                _grant(rec, trustee.sid, FULL_ACCESS if rng.random() < 0.8 else READ_PERMISSION)


def generate(n, seed=1, domain="contoso.onmicrosoft.com", tenant_id=None, system_aces=True):
    """A tenant with ``n`` ordinary mailboxes (about 2% of them M365 group mailboxes) plus the hard cases."""
    rng = random.Random("%s:%s" % (seed, domain.lower()))
    tenant_id = tenant_id or str(uuid.uuid5(TENANT_NAMESPACE, "%s:%s" % (domain.lower(), seed)))
    prefix = "NAMPR%02dA%03d" % (rng.randrange(1, 20), rng.randrange(1, 999))
    sid_domain = "S-1-5-21-%d-%d-%d" % (rng.randrange(10 ** 9, 4 * 10 ** 9), rng.randrange(10 ** 9, 4 * 10 ** 9),
                                        rng.randrange(10 ** 9, 4 * 10 ** 9))
    tenant = Tenant(tenant_id, domain, prefix=prefix, sid_domain=sid_domain, system_aces=system_aces)
    builder = _Builder(tenant, rng)
    people = _hard_cases(builder)
    archive_ops = _hard_groups(builder, people)
    _hard_acls(builder, people, archive_ops)
    users, mailboxes = _ordinary(builder, n)
    _ordinary_groups(builder, n, users, mailboxes)
    _ordinary_delegations(builder, users)
    _fix_aliases(tenant, people)
    tenant = _reindexed(tenant)
    hard_delegations.apply(tenant, people, archive_ops, users)
    return tenant


def _reindexed(tenant):
    """Rebuild the indices (hard cases change names and aliases after creation)."""
    rebuilt = Tenant(tenant.tenant_id, tenant.domain, tenant.name, tenant.environment, tenant.prefix,
                     tenant.sid_domain, tenant.system_aces_enabled, list(tenant.apps.values()))
    for rec in tenant.recipients:
        rebuilt.add(rec)
    return rebuilt
