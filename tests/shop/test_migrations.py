"""The models and the migrations agree, so ``makemigrations --check`` stays clean."""

import pytest
from django.core.management import call_command


@pytest.mark.django_db
def test_no_model_changes_without_migrations():
    # Exits with SystemExit(1) when a migration is missing.
    call_command("makemigrations", check=True, dry_run=True, verbosity=0)


def test_missing_product_image_is_in_media_root(settings, tmp_path):
    from shop.media import ensure_missing_image

    settings.MEDIA_ROOT = str(tmp_path)
    path = ensure_missing_image()
    assert path == tmp_path / "image_not_found.jpg"
    assert path.stat().st_size > 1000
