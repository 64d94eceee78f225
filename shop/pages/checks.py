"""System checks for the ``SHOP_*`` settings of the store's pages."""

from django.core.checks import Error, register

from shop.pages.defaults import DEFAULTS, setting


@register()
def check_settings(app_configs=None, **kwargs) -> list[Error]:
    errors = []
    for number, name in enumerate(DEFAULTS, start=1):
        value = setting(name)
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            errors.append(Error(f"{name} must be a whole number of at least 1, not {value!r}.",
                                hint=f"The default is {DEFAULTS[name]!r}.", id=f"shop.pages.E{number:03d}"))
    return errors
