"""{% load inventory %}: backend facts in words (see secrets_admin.inventory.facts)."""

from django import template

from secrets_admin.inventory import facts as inventory_facts

register = template.Library()


@register.filter
def facts(mapping):
    """{% for label, text in secret.details|facts %}…{% endfor %}"""
    return inventory_facts.facts(mapping)


@register.filter
def expiry_words(moment):
    """ "expires in 4 days" / "expired 2 days ago" for a certificate or lease end."""
    from secrets_admin.inventory.models.secret import expiry_words as words

    return words(moment) if moment else ""
