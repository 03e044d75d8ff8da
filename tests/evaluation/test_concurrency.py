"""A dataset's suite is made once however many of its first page views come at once."""
import threading

import pytest
from django.db import connection

from evaluation.models import Suite
from evaluation.suites import sync_suite

from .factories import dataset, small_files

pytestmark = pytest.mark.django_db(transaction=True)


def test_two_first_views_of_a_dataset_at_once_make_one_suite(settings):
    if not settings.USING_POSTGRES:
        pytest.skip("SQLite serialises all writes")
    board = dataset(small_files(), name="race")
    barrier, errors, suites = threading.Barrier(2), [], []

    def view():
        try:
            barrier.wait()
            suites.append(sync_suite(board))
        except Exception as exc:  # asserted on below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=view) for _ in range(2)]
    [t.start() for t in threads]
    [t.join(30) for t in threads]
    assert errors == [] and len({suite.pk for suite in suites}) == 1
    assert Suite.objects.filter(dataset=board).count() == 1
