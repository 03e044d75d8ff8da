from django.core.paginator import Paginator
from django.db.models import QuerySet
from django.utils.functional import cached_property
from rest_framework.pagination import PageNumberPagination


class StandardPagination(PageNumberPagination):
    page_size = 20
    page_size_query_param = "page_size"
    max_page_size = 100


class CountedPaginator(Paginator):
    """Pages of a display queryset (joins, annotations) whose total is counted on `count_from`,
    the same rows without them: the count then plans and compiles as a plain COUNT."""

    def __init__(self, object_list: QuerySet, per_page: int, *, count_from: QuerySet, **kwargs) -> None:
        super().__init__(object_list, per_page, **kwargs)
        self._count_from = count_from

    @cached_property
    def count(self) -> int:
        return self._count_from.count()
