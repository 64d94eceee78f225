"""Oscar's offer applicator with user offers: the segment-targeted ones (ecrm)."""

from oscar.apps.offer.applicator import Applicator as CoreApplicator


class Applicator(CoreApplicator):
    def get_user_offers(self, user):
        """Oscar's hook for "offers linked to this particular user": the active User offers of
        the segments the customer is in now (``ecrm.selectors.segment_offers_of``)."""
        from ecrm.selectors import segment_offers_of

        return segment_offers_of(user)
