"""Units, their staff, the matters they handle and the authority rules that tie them (DESIGN.md §1, §3)."""

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords


class DepartmentKind(models.TextChoices):
    CITY_COMMITTEE = "city_committee", _("City People's Committee")
    CITY_OFFICE = "city_office", _("Office of the City Committee")
    DEPARTMENT = "department", _("Department")
    DISTRICT = "district", _("District committee")
    COMMUNE = "commune", _("Commune-level committee")
    INSPECTORATE = "inspectorate", _("Inspectorate")
    HOME_AFFAIRS = "home_affairs", _("Home Affairs")


# The units whose leads keep the oversight records beside their inspectors and officials.
OVERSIGHT_UNITS = frozenset({DepartmentKind.INSPECTORATE, DepartmentKind.HOME_AFFAIRS})


class DepartmentQuerySet(models.QuerySet):
    def localities(self):
        """Units where a matter can arise: communes, wards, special zones and (former) districts."""
        return self.filter(kind__in=[DepartmentKind.DISTRICT, DepartmentKind.COMMUNE])


class Department(models.Model):
    code = models.SlugField(_("code"), max_length=32, unique=True)
    name = models.CharField(_("name"), max_length=200)
    kind = models.CharField(_("kind"), max_length=20, choices=DepartmentKind.choices)
    parent = models.ForeignKey(
        "self", verbose_name=_("parent"), null=True, blank=True, on_delete=models.PROTECT, related_name="children"
    )
    national_id = models.CharField(
        _("national identifier"), max_length=32, blank=True,
        help_text=_("The unit's national identifier, used in dossier codes."),
    )
    valid_from = models.DateField(_("valid from"), null=True, blank=True)
    valid_to = models.DateField(_("valid to"), null=True, blank=True)
    active = models.BooleanField(_("active"), default=True)

    objects = DepartmentQuerySet.as_manager()

    class Meta:
        ordering = ["kind", "name"]
        verbose_name = _("department")
        verbose_name_plural = _("departments")
        constraints = [
            models.CheckConstraint(
                condition=Q(valid_to__isnull=True) | Q(valid_from__isnull=True) | Q(valid_to__gte=F("valid_from")),
                name="department_valid_range",
            ),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def reference_prefix(self) -> str:
        return self.national_id or self.code.upper()


class Role(models.TextChoices):
    CLERK = "clerk", _("Intake clerk")
    SPECIALIST = "specialist", _("Specialist")
    DEPUTY = "deputy", _("Deputy head")
    HEAD = "head", _("Head")
    CITY_OFFICE = "city_office", _("City office")
    INSPECTOR = "inspector", _("Inspector")
    HOME_AFFAIRS = "home_affairs", _("Home Affairs")


# Roles that oversee the whole city and therefore see every case (DESIGN.md §2 rule 4).
CITYWIDE_ROLES = frozenset({Role.CITY_OFFICE, Role.INSPECTOR, Role.HOME_AFFAIRS})
# Who handles a case inside its owner department; the intake desk logs and routes but does not handle.
HANDLER_ROLES = frozenset({Role.SPECIALIST, Role.DEPUTY, Role.HEAD})
# Who signs for the department (the head principle: a specialist proposes, the head or deputy decides).
LEAD_ROLES = frozenset({Role.DEPUTY, Role.HEAD})
# Who keeps the oversight records: inspectors and Home Affairs officials, and the leads of their two units.
OVERSIGHT_ROLES = frozenset({Role.INSPECTOR, Role.HOME_AFFAIRS})


class Staff(models.Model):
    """A user's place in one department (cán bộ, công chức)."""

    user = models.OneToOneField(settings.AUTH_USER_MODEL, verbose_name=_("user"), on_delete=models.CASCADE,
                                related_name="staff")
    department = models.ForeignKey(Department, verbose_name=_("department"), on_delete=models.PROTECT,
                                   related_name="staff")
    role = models.CharField(_("role"), max_length=20, choices=Role.choices)

    class Meta:
        verbose_name = _("staff member")
        verbose_name_plural = _("staff")
        ordering = ["department__name", "user__username"]

    def __str__(self) -> str:
        return f"{self.user.get_full_name() or self.user.username} ({self.department.code}, {self.get_role_display()})"


class CaseType(models.Model):
    """The matter (lĩnh vực / loại công việc); it decides authority."""

    code = models.SlugField(_("code"), max_length=40, unique=True)
    name = models.CharField(_("name"), max_length=200)
    processing_days = models.PositiveSmallIntegerField(_("processing working days"))
    consultation_days = models.PositiveSmallIntegerField(_("consultation working days"), null=True, blank=True)
    active = models.BooleanField(_("active"), default=True)

    class Meta:
        ordering = ["name"]
        verbose_name = _("case type")
        verbose_name_plural = _("case types")
        constraints = [
            models.CheckConstraint(condition=Q(processing_days__gte=1), name="casetype_processing_days_positive"),
        ]

    def __str__(self) -> str:
        return self.name


class DecisionLevel(models.TextChoices):
    DEPARTMENT = "department", _("Department decides")
    CITY_COMMITTEE = "city_committee", _("City Committee decides")
    CHAIRMAN = "chairman", _("Chairman decides")


# Every change records who made it and why (DESIGN.md §3 "Rule history"); a reason citing a decision's
# number, date and subject is longer than the package's default 100 characters. Kept by name so that the rule
# service writes one version per change, once the row and its consultees are both saved, where the package
# alone would write one for the save and more for each change of the consultees.
RULE_HISTORY = HistoricalRecords(
    m2m_fields=["required_consultees"], history_change_reason_field=models.TextField(null=True),
    verbose_name=_("authority rule history"), verbose_name_plural=_("authority rule history"),
)


class AuthorityRule(models.Model):
    """Which department owns a case type, optionally per locality and amount band (DESIGN.md §3)."""

    case_type = models.ForeignKey(CaseType, verbose_name=_("case type"), on_delete=models.PROTECT,
                                  related_name="rules")
    locality = models.ForeignKey(
        Department, verbose_name=_("locality"), null=True, blank=True, on_delete=models.PROTECT,
        related_name="local_rules", help_text=_("Empty: the whole city."),
    )
    min_amount = models.DecimalField(_("minimum amount (inclusive)"), max_digits=18, decimal_places=0,
                                     null=True, blank=True)
    max_amount = models.DecimalField(_("maximum amount (exclusive)"), max_digits=18, decimal_places=0,
                                     null=True, blank=True)
    owner = models.ForeignKey(Department, verbose_name=_("owner"), on_delete=models.PROTECT,
                              related_name="owned_rules")
    decision_level = models.CharField(_("decision level"), max_length=20, choices=DecisionLevel.choices,
                                      default=DecisionLevel.DEPARTMENT)
    required_consultees = models.ManyToManyField(Department, verbose_name=_("required consultees"), blank=True,
                                                 related_name="consulted_by_rules")
    processing_days = models.PositiveSmallIntegerField(_("processing working days"), null=True, blank=True,
                                                       help_text=_("Empty: the case type's."))
    consultation_days = models.PositiveSmallIntegerField(_("consultation working days"), null=True, blank=True)
    legal_basis = models.CharField(_("legal basis"), max_length=500, blank=True)
    valid_from = models.DateField(_("valid from"), null=True, blank=True)
    valid_to = models.DateField(_("valid to"), null=True, blank=True)
    active = models.BooleanField(_("active"), default=True)

    history = RULE_HISTORY

    class Meta:
        ordering = ["case_type__code", "id"]
        verbose_name = _("authority rule")
        verbose_name_plural = _("authority rules")
        indexes = [models.Index(fields=["case_type", "locality"])]
        constraints = [
            models.CheckConstraint(
                condition=Q(min_amount__isnull=True) | Q(max_amount__isnull=True) | Q(max_amount__gt=F("min_amount")),
                name="rule_amount_band_ordered",
            ),
            models.CheckConstraint(
                condition=Q(min_amount__isnull=True) | Q(min_amount__gte=0), name="rule_min_amount_not_negative"
            ),
            models.CheckConstraint(
                condition=Q(valid_to__isnull=True) | Q(valid_from__isnull=True) | Q(valid_to__gte=F("valid_from")),
                name="rule_valid_range",
            ),
        ]

    def __str__(self) -> str:
        # Names, not codes, and dates day first: an official reads this in the admin, the rule's history and a
        # tie's refusal. The case type, the locality and the owner are selected with the rule wherever rules are
        # listed.
        where = f", {self.locality.name}" if self.locality_id is not None else ""
        since, until = self.valid_from, self.valid_to
        if since and until:
            validity = f" ({since:%d/%m/%Y}–{until:%d/%m/%Y})"
        elif since or until:
            text = _("from %(date)s") if since else _("until %(date)s")
            validity = " ({})".format(text % {"date": f"{since or until:%d/%m/%Y}"})
        else:
            validity = ""
        return f"{self.case_type.name}{where} → {self.owner.name}{validity}"

    @property
    def specificity(self) -> int:
        return int(self.locality_id is not None) + int(self.min_amount is not None or self.max_amount is not None)


class CalendarDayKind(models.TextChoices):
    DAY_OFF = "day_off", _("Extra day off")
    WORKING_DAY = "working_day", _("Extra working day (làm bù)")


class CalendarDay(models.Model):
    """An admin's override of the working-day calendar, because each year's swaps come after the package."""

    date = models.DateField(_("date"), unique=True)
    kind = models.CharField(_("kind"), max_length=20, choices=CalendarDayKind.choices)
    name = models.CharField(_("name"), max_length=200, blank=True)

    class Meta:
        ordering = ["date"]
        verbose_name = _("calendar override")
        verbose_name_plural = _("calendar overrides")

    def __str__(self) -> str:
        return f"{self.date.isoformat()} {self.get_kind_display()}"


class Generation(models.Model):
    """A token renewed whenever rules or the calendar change, so that every process rebuilds its caches.

    A fresh random token rather than a counter: a counter bumped in a transaction that rolls back would be
    bumped again to the same number later, and a process that had cached the rolled-back state would
    wrongly keep it.
    """

    key = models.CharField(max_length=32, primary_key=True)
    value = models.CharField(max_length=32)

    def __str__(self) -> str:
        return f"{self.key}={self.value}"
