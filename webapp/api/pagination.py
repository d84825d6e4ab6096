"""Page-number pagination: ``?page=2&page_size=100`` (at most MAX_PAGE_SIZE rows a page)."""

from rest_framework.pagination import PageNumberPagination


class StandardPagination(PageNumberPagination):
    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 200
