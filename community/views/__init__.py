from .accounts import profile, settings_page, signup
from .forum import (
    category, edit_post, forum_index, home, new_thread, notifications, revisions, search_page,
    tag, thread_detail,
)

__all__ = ["category", "edit_post", "forum_index", "home", "new_thread", "notifications",
           "profile", "revisions", "search_page", "settings_page", "signup", "tag", "thread_detail"]
