"""E-mail: one message per notification, plain text and HTML.

The subject is the notification's title; the body lists each alert with its summary,
description (the verdict's reason for judgement alerts), severity, value and limit, labels,
since when, and links to the alert and the dashboard. The HTML part is autoescaped: label
values and annotations come from models and rules, never trusted as markup.
"""

from __future__ import annotations

from email.message import EmailMessage
from email.utils import formatdate, make_msgid

from jinja2 import Environment

from modelmon.notify.config import EmailConfig
from modelmon.notify.integrations import SEVERITY_COLOURS
from modelmon.notify.integrations._common import link, summary, worst
from modelmon.notify.messages import Notification

__all__ = ["render"]

_ENV = Environment(autoescape=True, trim_blocks=True, lstrip_blocks=True)
_TEXT = Environment(autoescape=False, trim_blocks=True, lstrip_blocks=True).from_string("""\
{{ n.title }}

{% for a in n.alerts %}
[{{ a.status | upper }}] {{ a.severity }} · {{ a.labels.alertname }} · {{ a.model or "service" }}
  {{ summary(a) }}
{% if a.annotations.description %}  {{ a.annotations.description }}
{% endif %}
{% if a.value is not none %}  value {{ "%.4g" | format(a.value) }}{% if a.threshold is not none %} (limit {{ "%.4g" | format(a.threshold) }}){% endif %}

{% endif %}
  since {{ a.startsAt }}{% if a.status == "resolved" %}, resolved {{ a.endsAt }}{% endif %}

  labels: {% for k, v in a.labels | dictsort %}{{ k }}={{ v }} {% endfor %}

{% if link(n, a) %}  {{ link(n, a) }}
{% endif %}

{% endfor %}
{% if n.external_url %}All alerts: {{ link(n) }}
{% endif %}
""")
_HTML = _ENV.from_string("""\
<!doctype html>
<html><body style="font-family: sans-serif; font-size: 14px; color: #222">
<h2 style="color: {{ colour }}; margin: 0 0 12px">{{ n.title }}</h2>
<table cellpadding="6" style="border-collapse: collapse">
{% for a in n.alerts %}
<tr style="border-top: 1px solid #ddd">
<td style="vertical-align: top; color: {{ colours[a.severity if a.status == 'firing' else 'resolved'] }}; font-weight: bold">{{ a.status | upper }}<br>{{ a.severity }}</td>
<td><b>{{ a.labels.alertname }}</b> · {{ a.model or "service" }}<br>{{ summary(a) }}
{% if a.annotations.description %}<br><span style="color: #555">{{ a.annotations.description }}</span>{% endif %}
{% if a.value is not none %}<br>value {{ "%.4g" | format(a.value) }}{% if a.threshold is not none %} (limit {{ "%.4g" | format(a.threshold) }}){% endif %}{% endif %}
<br><small>since {{ a.startsAt }}{% if a.status == "resolved" %}, resolved {{ a.endsAt }}{% endif %} ·
{% for k, v in a.labels | dictsort %}{{ k }}={{ v }} {% endfor %}</small>
{% if link(n, a) %}<br><a href="{{ link(n, a) }}">Open the alert</a>{% endif %}
</td></tr>
{% endfor %}
</table>
{% if n.external_url %}<p><a href="{{ link(n) }}">All alerts in modelmon</a></p>{% endif %}
</body></html>
""")


def render(n: Notification, cfg: EmailConfig) -> EmailMessage:
    msg = EmailMessage()
    msg["Subject"] = f"{cfg.subject_prefix} {n.title}".strip()
    msg["From"] = cfg.from_
    msg["To"] = ", ".join(cfg.to)
    msg["Date"] = formatdate(localtime=False)
    msg["Message-ID"] = make_msgid(domain="modelmon")
    values = {"n": n, "summary": summary, "link": link, "colour": SEVERITY_COLOURS[worst(n)],
              "colours": SEVERITY_COLOURS}
    msg.set_content(_TEXT.render(**values))
    msg.add_alternative(_HTML.render(**values), subtype="html")
    return msg
