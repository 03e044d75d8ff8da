"""Users and the forum: categories, threads, posts, revisions, votes, flags, and what ties
members to threads (notifications, watches, bookmarks)."""
from __future__ import annotations

from django.contrib.auth.models import AbstractUser
from django.contrib.auth.models import UserManager as BaseUserManager
from django.db import models
from django.db.models import Lookup, Q
from django.db.models.functions import Lower
from django.urls import reverse
from django.utils import timezone
from django.utils.crypto import salted_hmac
from django.utils.text import slugify
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

from core.models import ApiToken, Tag

from .querysets import CategoryQuerySet, NotificationQuerySet, PostQuerySet, ThreadQuerySet, UserQuerySet


class LowerExact(Lookup):
    """`username__lower_exact=name`: LOWER(username) = LOWER(name), which the unique Lower index
    answers (Django's `iexact` compares UPPER(...) and reads the whole table)."""

    lookup_name = "lower_exact"

    def as_sql(self, compiler, connection):
        lhs, lhs_params = self.process_lhs(compiler, connection)
        rhs, rhs_params = self.process_rhs(compiler, connection)
        return f"LOWER({lhs}) = LOWER({rhs})", [*lhs_params, *rhs_params]


class UserManager(BaseUserManager.from_queryset(UserQuerySet)):
    def get_by_natural_key(self, username: str) -> "User":
        """Signing in as Alice is signing in as alice: usernames are unique ignoring case."""
        return self.get(username__lower_exact=username)


class EmailNotifications(models.TextChoices):
    """Which notifications also go out by e-mail, when still unread a while later (Discourse's
    default: mentions and replies, not every post in a watched thread, never votes)."""
    DIRECT = "direct", _("when someone mentions me, replies to me or accepts my answer, and when my jobs end")
    ALL = "all", _("also for new posts in threads I watch")
    NEVER = "never", _("no notification e-mails")


class User(AbstractUser):
    display_name = models.CharField(_("display name"), max_length=80, blank=True)
    bio = models.TextField(_("bio"), max_length=2000, blank=True)
    # A new address asked for, in use once its owner follows the link sent to it (accounts.py).
    pending_email = models.EmailField(_("new e-mail address, not yet confirmed"), blank=True)
    reputation = models.IntegerField(_("reputation"), default=0)
    email_notifications = models.CharField(_("E-mail me"), max_length=8, choices=EmailNotifications.choices,
                                           default=EmailNotifications.DIRECT)
    # The language the member last signed in or saved settings in: their e-mails are written in it.
    language = models.CharField(_("language"), max_length=10, blank=True)
    # A moderator's suspension: no signing in, no API key, until then (moderation.suspend_member).
    suspended_until = models.DateTimeField(_("suspended until"), null=True, blank=True)
    suspension_reason = models.CharField(_("reason for the suspension"), max_length=500, blank=True)

    objects = UserManager()

    class Meta(AbstractUser.Meta):
        constraints = [
            # Alice and alice would be two people one @mention cannot tell apart (the sign-up
            # form checks this too; the database holds it against races and the admin).
            models.UniqueConstraint(Lower("username"), name="username_unique_ignoring_case",
                                    violation_error_message=_("A user with that username already exists.")),
        ]

    def __str__(self) -> str:
        return self.username

    @property
    def is_suspended(self) -> bool:
        return self.suspended_until is not None and self.suspended_until > timezone.now()

    def get_session_auth_hash(self) -> str:
        """Django's, changed by a suspension: every session the member had then ends at once (the
        log-in form and API keys refuse them until it is over)."""
        base = super().get_session_auth_hash()
        if self.suspended_until is None:
            return base
        return salted_hmac("community.User.suspension", f"{base}:{self.suspended_until.isoformat()}",
                           algorithm="sha256").hexdigest()

    def save(self, *args, **kwargs) -> None:
        """Saving a new password (set_password: the change and reset forms, the admin, the shell)
        revokes every API token and any e-mail change waiting for its link, so that neither a
        leaked token nor a change asked for by whoever had the old password outlives it. Django
        leaves `_password` unset when it only re-hashes the same password on login."""
        password_changed = self._password is not None
        super().save(*args, **kwargs)
        if password_changed:
            ApiToken.objects.filter(user=self).delete()
            if self.pending_email:
                type(self).objects.filter(pk=self.pk).update(pending_email="")
                self.pending_email = ""

    @property
    def shown_name(self) -> str:
        return self.display_name or self.username

    def get_absolute_url(self) -> str:
        return reverse("profile", args=[self.username])


User._meta.get_field("username").register_lookup(LowerExact)


class Category(models.Model):
    slug = models.SlugField(unique=True, allow_unicode=True)
    name = models.CharField(_("name"), max_length=80)
    name_zh = models.CharField(_("Chinese name"), max_length=80, blank=True)
    description = models.TextField(_("description"), blank=True)
    description_zh = models.TextField(_("Chinese description"), blank=True)
    position = models.PositiveIntegerField(default=0)
    thread_count = models.PositiveIntegerField(default=0)
    members_start_threads = models.BooleanField(
        _("members start threads here"), default=True,
        help_text=_("Off where the site starts each thread (a hub resource's discussion): members reply there."))

    objects = CategoryQuerySet.as_manager()

    class Meta:
        ordering = ["position", "name"]
        verbose_name_plural = "categories"

    def __str__(self) -> str:
        return self.name

    @property
    def local_name(self) -> str:
        return self.name_zh if get_language() == "zh-hans" and self.name_zh else self.name

    @property
    def local_description(self) -> str:
        use_zh = get_language() == "zh-hans" and self.description_zh
        return self.description_zh if use_zh else self.description

    def get_absolute_url(self) -> str:
        return reverse("community:category", args=[self.slug])



class ThreadKind(models.TextChoices):
    DISCUSSION = "discussion", _("Discussion")
    QUESTION = "question", _("Question")


class Thread(models.Model):
    Kind = ThreadKind

    category = models.ForeignKey(Category, on_delete=models.PROTECT, related_name="threads")
    author = models.ForeignKey(User, on_delete=models.CASCADE, related_name="threads")
    title = models.CharField(_("title"), max_length=200)
    slug = models.SlugField(max_length=200, allow_unicode=True, blank=True)
    kind = models.CharField(_("kind"), max_length=12, choices=Kind.choices, default=Kind.DISCUSSION)
    tags = models.ManyToManyField(Tag, blank=True, related_name="threads")
    created_at = models.DateTimeField(default=timezone.now, db_index=True)
    last_activity_at = models.DateTimeField(default=timezone.now, db_index=True)
    reply_count = models.PositiveIntegerField(default=0)
    # The last position handed out (Discourse's highest_post_number): never taken back when a
    # reply is deleted, so a position names one post for good and read state stays true.
    highest_position = models.PositiveIntegerField(default=1)
    # Readers who opened it: once per member (or address) a day, crawlers not counted.
    view_count = models.PositiveIntegerField(default=0)
    score = models.IntegerField(default=0)
    is_pinned = models.BooleanField(default=False)
    is_locked = models.BooleanField(default=False)
    is_hidden = models.BooleanField(default=False)
    accepted_post = models.ForeignKey(
        "Post", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    objects = ThreadQuerySet.as_manager()

    class Meta:
        indexes = [
            models.Index(fields=["category", "-last_activity_at"]),
            models.Index(fields=["-is_pinned", "-last_activity_at"]),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(kind__in=ThreadKind.values), name="thread_kind_valid"
            ),
        ]

    def __str__(self) -> str:
        return self.title

    def save(self, *args, **kwargs) -> None:
        self.slug = self.slug_for(self.title)
        super().save(*args, **kwargs)

    @staticmethod
    def slug_for(title: str) -> str:
        return slugify(title, allow_unicode=True)[:200] or "thread"

    def get_absolute_url(self) -> str:
        return reverse("community:thread", args=[self.pk, self.slug or "thread"])


class ModerationAction(models.TextChoices):
    PIN = "pin", _("Pin")
    UNPIN = "unpin", _("Unpin")
    LOCK = "lock", _("Lock")
    UNLOCK = "unlock", _("Unlock")
    HIDE = "hide", _("Hide")
    UNHIDE = "unhide", _("Unhide")
    MOVE = "move", _("Move")


class Post(models.Model):
    thread = models.ForeignKey(Thread, on_delete=models.CASCADE, related_name="posts")
    author = models.ForeignKey(User, on_delete=models.CASCADE, related_name="posts")
    position = models.PositiveIntegerField()
    body = models.TextField(_("body"))
    body_html = models.TextField(editable=False)
    reply_to = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="replies"
    )
    created_at = models.DateTimeField(default=timezone.now)
    edited_at = models.DateTimeField(null=True, blank=True)
    score = models.IntegerField(default=0)
    is_hidden = models.BooleanField(default=False)
    flag_count = models.PositiveIntegerField(default=0)  # flags not yet resolved by a review
    needs_review = models.BooleanField(default=False)

    objects = PostQuerySet.as_manager()

    class Meta:
        ordering = ["position"]
        constraints = [
            models.UniqueConstraint(fields=["thread", "position"], name="post_position_unique"),
        ]
        indexes = [
            models.Index(fields=["author", "-created_at"]),
            models.Index(fields=["thread", "created_at"]),  # a thread's activity, last 30 days
            # The review queue, and its count on every page a moderator opens.
            models.Index(fields=["id"], condition=models.Q(needs_review=True), name="post_needs_review"),
        ]

    def __str__(self) -> str:
        return f"#{self.position} in {self.thread_id}"

    @property
    def is_opening(self) -> bool:
        return self.position == 1

    def get_absolute_url(self) -> str:
        return f"{self.thread.get_absolute_url()}?post={self.pk}#post-{self.pk}"


class PostRevision(models.Model):
    """A post as it was before an edit, kept on every edit: its body and, for an opening post,
    the thread's title then (blank for replies)."""

    post = models.ForeignKey(Post, on_delete=models.CASCADE, related_name="revisions")
    editor = models.ForeignKey(User, on_delete=models.CASCADE, related_name="+")
    number = models.PositiveIntegerField()
    title = models.CharField(max_length=200, blank=True)
    body = models.TextField()
    body_html = models.TextField()
    created_at = models.DateTimeField(default=timezone.now)
    # Redacted by a moderator (personal data, spam edited out): others no longer see this version.
    is_hidden = models.BooleanField(default=False)

    class Meta:
        ordering = ["number"]
        constraints = [
            models.UniqueConstraint(fields=["post", "number"], name="revision_number_unique"),
        ]


# Reputation a post's author gains from an upvote, a downvote and an accepted answer (taken back
# when the vote is withdrawn, the answer unaccepted or hidden, the post deleted).
REPUTATION_UPVOTE = 10
REPUTATION_DOWNVOTE = -2
REPUTATION_ACCEPTED = 15


class VoteValue(models.IntegerChoices):
    UP = 1, _("up")
    DOWN = -1, _("down")


class Vote(models.Model):
    Value = VoteValue
    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="votes")
    post = models.ForeignKey(Post, on_delete=models.CASCADE, related_name="votes")
    value = models.SmallIntegerField(choices=VoteValue.choices)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["user", "post"], name="one_vote_per_user_post"),
            models.CheckConstraint(condition=Q(value__in=VoteValue.values), name="vote_value_valid"),
        ]


class Flag(models.Model):
    """A member asking moderators to look at a post. Flags from established members (see
    `permissions.flag_counts_toward_hide`, decided when the flag is made) hide the post once
    there are enough of them; a moderator's review resolves every flag made before it."""

    class Kind(models.TextChoices):  # Discourse's reasons; "something else" must say what
        OFF_TOPIC = "off_topic", _("Off-topic")
        INAPPROPRIATE = "inappropriate", _("Inappropriate")
        SPAM = "spam", _("Spam")
        OTHER = "other", _("Something else")

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="flags")
    post = models.ForeignKey(Post, on_delete=models.CASCADE, related_name="flags")
    kind = models.CharField(_("kind"), max_length=20, choices=Kind.choices, default=Kind.OTHER)
    reason = models.CharField(_("reason"), max_length=500, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    resolved = models.BooleanField(default=False)
    counts_toward_hide = models.BooleanField(default=False)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["user", "post"], name="one_flag_per_user_post"),
        ]


class Notification(models.Model):
    class Kind(models.TextChoices):
        REPLY = "reply", _("replied")
        MENTION = "mention", _("mentioned you")
        ACCEPTED = "accepted", _("accepted your answer")
        VOTE = "vote", _("upvoted your post")
        WATCHING = "watching", _("posted in a thread you watch")
        NEW_THREAD = "new_thread", _("started a thread where you watch new threads")
        # Moderation of the recipient's own post: by a moderator (the actor), or by members' flags.
        POST_HIDDEN = "post_hidden", _("hid your post; edit it, and a moderator can restore it")
        POST_RESTORED = "post_restored", _("restored your post")
        FLAGGED_HIDDEN = "flagged_hidden", _("Members' flags hid your post until a moderator reviews it")
        # About a member's own long job, from the apps above the forum (no actor, no post).
        FINETUNE_DONE = "finetune_done", _("Your fine-tune finished")
        FINETUNE_FAILED = "finetune_failed", _("Your fine-tune failed")
        EVALUATION_DONE = "evaluation_done", _("Your evaluation finished")
        EVALUATION_FAILED = "evaluation_failed", _("Your evaluation failed")

    recipient = models.ForeignKey(
        User, on_delete=models.CASCADE, related_name="notifications"
    )
    actor = models.ForeignKey(User, null=True, blank=True, on_delete=models.CASCADE, related_name="+")
    kind = models.CharField(max_length=20, choices=Kind.choices)
    thread = models.ForeignKey(Thread, null=True, blank=True, on_delete=models.CASCADE, related_name="+")
    post = models.ForeignKey(Post, null=True, blank=True, on_delete=models.CASCADE, related_name="+")
    # A notification about something else than a post: what it is about, and where it is.
    subject = models.CharField(max_length=300, blank=True)
    link = models.CharField(max_length=500, blank=True)
    read = models.BooleanField(default=False)
    created_at = models.DateTimeField(default=timezone.now)
    emailed_at = models.DateTimeField(null=True, blank=True)  # set once, by the one e-mail sent

    objects = NotificationQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["recipient", "read"])]
        constraints = [
            # One notification per recipient, event kind and post: a post mentioning @x three
            # times, or a vote changed back and forth, still notifies once.
            models.UniqueConstraint(
                fields=["recipient", "actor", "kind", "post"], name="notification_once"
            ),
            models.CheckConstraint(
                condition=~Q(recipient=models.F("actor")), name="notification_not_self"
            ),
            models.CheckConstraint(
                condition=Q(post__isnull=False, thread__isnull=False) | (Q(post__isnull=True) & ~Q(link="")),
                name="notification_about_a_post_or_a_link",
            ),
        ]

    @property
    def is_about_a_post(self) -> bool:
        return self.post_id is not None

    def get_absolute_url(self) -> str:
        if not self.is_about_a_post:
            return self.link
        return f"{self.thread.get_absolute_url()}?post={self.post_id}#post-{self.post_id}"


class Watch(models.Model):
    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="+")
    thread = models.ForeignKey(Thread, on_delete=models.CASCADE, related_name="watches")

    class Meta:
        constraints = [models.UniqueConstraint(fields=["user", "thread"], name="watch_once")]


class CategoryWatch(models.Model):
    """`user` hears of each new thread in `category` (Discourse's "Watching First Post")."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="+")
    category = models.ForeignKey(Category, on_delete=models.CASCADE, related_name="watches")

    class Meta:
        constraints = [models.UniqueConstraint(fields=["user", "category"], name="category_watch_once")]


class TagWatch(models.Model):
    """`user` hears of each new thread tagged `tag`."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="+")
    tag = models.ForeignKey(Tag, on_delete=models.CASCADE, related_name="+")

    class Meta:
        constraints = [models.UniqueConstraint(fields=["user", "tag"], name="tag_watch_once")]


class Mute(models.Model):
    """`user` muted `muted`: no notifications from them, and their posts show folded (Discourse's
    Mute and Ignore). Moderators cannot be muted: their notices must reach everyone."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="mutes")
    muted = models.ForeignKey(User, on_delete=models.CASCADE, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(fields=["user", "muted"], name="mute_once"),
            models.CheckConstraint(condition=~Q(user=models.F("muted")), name="mute_not_self"),
        ]


class Bookmark(models.Model):
    user = models.ForeignKey(
        User, on_delete=models.CASCADE, related_name="bookmarks"
    )
    thread = models.ForeignKey(Thread, on_delete=models.CASCADE, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-created_at"]
        constraints = [models.UniqueConstraint(fields=["user", "thread"], name="bookmark_once")]


class ThreadRead(models.Model):
    """How far a member has read a thread: the highest post position a page of it showed them.
    Lists count the visible replies past it as new (as Discourse does), for threads they opened."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="+")
    thread = models.ForeignKey(Thread, on_delete=models.CASCADE, related_name="+")
    last_position = models.PositiveIntegerField(default=1)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["user", "thread"], name="read_state_once")]


class ModerationLog(models.Model):
    """What a moderator did, to what, when and why: Discourse's staff action log. `subject` and
    `link` keep what the entry was about after the object is gone or renamed."""

    class Action(models.TextChoices):
        PIN = "pin", _("pinned a thread")
        UNPIN = "unpin", _("unpinned a thread")
        LOCK = "lock", _("locked a thread")
        UNLOCK = "unlock", _("unlocked a thread")
        HIDE = "hide", _("hid a thread")
        UNHIDE = "unhide", _("showed a thread again")
        MOVE = "move", _("moved a thread")
        POST_HIDDEN = "post_hidden", _("hid a post")
        POST_RESTORED = "post_restored", _("restored a post")
        REVISION_HIDDEN = "revision_hidden", _("redacted a revision")
        REVISION_SHOWN = "revision_shown", _("showed a revision again")
        SUSPEND = "suspend", _("suspended a member")
        LIFT_SUSPENSION = "lift_suspension", _("lifted a suspension")
        TAKE_DOWN = "take_down", _("took down a hub resource")
        VOID_VOTES = "void_votes", _("voided a member's arena votes")

    moderator = models.ForeignKey(User, null=True, on_delete=models.SET_NULL, related_name="+")
    action = models.CharField(max_length=20, choices=Action.choices)
    member = models.ForeignKey(User, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    subject = models.CharField(max_length=300)
    link = models.CharField(max_length=400, blank=True)
    detail = models.CharField(max_length=500, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["-created_at", "-id"], name="moderation_log_newest")]
