"""eCRM: customer profiles, identities, segments, scores and consents, built from tracking's events and Oscar's orders."""
