from django.urls import path

from . import feeds, history_views, moderation_views, views

app_name = "community"

urlpatterns = [
    path("", views.forum_index, name="index"),
    path("latest.rss", feeds.LatestThreads(), name="feed-latest"),
    path("c/<str:slug>.rss", feeds.CategoryThreads(), name="feed-category"),
    path("tag/<path:name>.rss", feeds.TagThreads(), name="feed-tag"),
    path("t/<int:pk>.rss", feeds.ThreadPosts(), name="feed-thread"),
    path("dismiss/", views.dismiss, name="dismiss"),
    path("new/", views.new_thread, name="new"),
    path("search/", views.search_page, name="search"),
    path("notifications/", views.notifications, name="notifications"),
    path("bookmarks/", views.bookmarks, name="bookmarks"),
    path("review/", views.review_queue, name="review"),
    path("moderation/log/", moderation_views.moderation_log, name="moderation-log"),
    path("c/<str:slug>/", views.category, name="category"),
    path("c/<str:slug>/watch/", views.watch_new_threads, name="watch-category"),
    path("tags/", views.tags, name="tags"),
    path("tag-watch/<path:name>", views.watch_new_threads, name="watch-tag"),  # a tag name may end in "/watch"
    path("tag/<path:name>/", views.tag, name="tag"),  # tag names may hold "/"
    path("t/<int:pk>/", views.thread_detail, name="thread-short"),
    path("t/<int:pk>/reply/", views.reply, name="reply"),
    path("t/<int:pk>/accept/", views.accept, name="accept"),
    path("t/<int:pk>/watch/", views.watch, name="watch"),
    path("t/<int:pk>/bookmark/", views.bookmark, name="bookmark"),
    path("t/<int:pk>/moderate/", views.moderate, name="moderate"),
    path("t/<int:pk>/<str:slug>/", views.thread_detail, name="thread"),
    path("p/<int:pk>/edit/", views.edit_post, name="edit-post"),
    path("p/<int:pk>/delete/", views.delete_post, name="delete-post"),
    path("p/<int:pk>/revisions/", history_views.revisions, name="revisions"),
    path("revisions/<int:pk>/redact/", history_views.redact_revision, name="redact-revision"),
    path("p/<int:pk>/vote/", views.vote, name="vote"),
    path("p/<int:pk>/flag/", views.flag, name="flag"),
    path("p/<int:pk>/hide/", views.hide_post, name="hide-post"),
]
