from django.urls import path

from . import views
from .views import actions, forum

app_name = "community"

urlpatterns = [
    path("", views.forum_index, name="index"),
    path("new/", views.new_thread, name="new"),
    path("search/", views.search_page, name="search"),
    path("preview/", forum.preview, name="preview"),
    path("notifications/", views.notifications, name="notifications"),
    path("review/", actions.review_queue, name="review"),
    path("c/<str:slug>/", views.category, name="category"),
    path("tag/<str:name>/", views.tag, name="tag"),
    path("t/<int:pk>/", views.thread_detail, name="thread-short"),
    path("t/<int:pk>/reply/", forum.reply, name="reply"),
    path("t/<int:pk>/accept/", actions.accept, name="accept"),
    path("t/<int:pk>/watch/", actions.watch, name="watch"),
    path("t/<int:pk>/bookmark/", actions.bookmark, name="bookmark"),
    path("t/<int:pk>/moderate/", actions.moderate, name="moderate"),
    path("t/<int:pk>/<str:slug>/", views.thread_detail, name="thread"),
    path("p/<int:pk>/edit/", views.edit_post, name="edit-post"),
    path("p/<int:pk>/revisions/", views.revisions, name="revisions"),
    path("p/<int:pk>/vote/", actions.vote, name="vote"),
    path("p/<int:pk>/flag/", actions.flag, name="flag"),
    path("p/<int:pk>/hide/", actions.hide_post, name="hide-post"),
]
