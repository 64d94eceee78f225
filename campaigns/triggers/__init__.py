"""Triggers: what finds the customers a flow should take in, as of a moment.

Each trigger kind (abandoned basket, browse abandonment, win-back, ...) is a ``Trigger`` in
the registry (``campaigns.triggers.base``); its module registers it when imported, and
``trigger_modules_load`` imports every module listed in ``CAMPAIGNS_TRIGGER_MODULES``. The
flow engine asks each active flow's trigger for who is due (``Trigger.find``) and enrols
them once per ``Due.window``.
"""

from campaigns.triggers.base import Due, Param, Trigger, register, trigger_get, triggers_all  # noqa: F401
