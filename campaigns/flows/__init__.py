"""The flow engine: enrol the customers a flow's trigger finds, move each along its steps
as time passes, and take them out when an exit condition holds.

* ``graph``: the shape of a flow (where each step goes, loops, unreachable steps), plain Python;
* ``validation``: everything that keeps a flow from being activated, as messages for the marketer;
* ``engine``: ``flows_run(now)``, what ``campaigns_tick`` and beat run;
* ``exits``: the exit conditions, for a batch of enrolments at once;
* ``actions``: what a step does (send, voucher, tag, webhook, condition);
* ``context``: the objects a flow's messages are rendered with;
* ``services``: create from a trigger's template, edit steps, activate and pause.
"""
