"""Thin DRF views for users, tokens, the forum, search and notifications."""
from __future__ import annotations

from django.conf import settings
from django.contrib.auth import authenticate
from django.db import transaction
from django.db.models import ProtectedError
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import generics, mixins, permissions, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import APIException, NotFound, PermissionDenied, Throttled, ValidationError
from rest_framework.response import Response
from rest_framework.views import APIView

from core import search
from core.pagination import StandardPagination
from core.permissions import IsStaffOrReadOnly
from core.services import create_login_token

from . import accounts, reading, services
from .forms import SearchForm
from .models import Category, Notification, Post, Thread, User
from .serializers import (
    AcceptSerializer,
    BookmarkSerializer,
    CategorySerializer,
    DismissSerializer,
    FlagSerializer,
    MarkReadSerializer,
    MeSerializer,
    MuteSerializer,
    ModerateSerializer,
    NotificationSerializer,
    PostSerializer,
    PostUpdateSerializer,
    ReadSerializer,
    SearchHitSerializer,
    SuspensionSerializer,
    ThreadCreatedSerializer,
    ThreadSerializer,
    ThreadUpdateSerializer,
    TokenRequestSerializer,
    TokenResponseSerializer,
    UserSerializer,
    VoteResultSerializer,
    VoteSerializer,
    WatchSerializer,
)


def checked_query(query: str) -> str:
    """A search query within the length limit, else a 400 on `q`."""
    if refusal := search.query_too_long(query):
        raise ValidationError({"q": [refusal]})
    return query


class AuthTokenView(APIView):
    permission_classes = [permissions.AllowAny]
    authentication_classes: list = []

    @extend_schema(request=TokenRequestSerializer, responses=TokenResponseSerializer)
    def post(self, request):
        data = TokenRequestSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        user = authenticate(request, **data.validated_data)
        if getattr(request, "axes_locked_out", False):  # set by django-axes on too many failures
            raise Throttled(wait=settings.AXES_COOLOFF_TIME.total_seconds(),
                            detail="Too many failed log-ins. Try again later.")
        if user is None:
            raise ValidationError({"detail": "Unable to log in with the given credentials."})
        if user.is_suspended:
            raise PermissionDenied(f"This account is suspended until {user.suspended_until.isoformat()}: "
                                   f"{user.suspension_reason}")
        _token, key = create_login_token(user=user)
        return Response({"token": key})


class MeView(generics.RetrieveUpdateAPIView):
    serializer_class = MeSerializer
    permission_classes = [permissions.IsAuthenticated]
    http_method_names = ["get", "patch"]

    def get_object(self):
        return User.objects.with_counts().get(pk=self.request.user.pk)

    def partial_update(self, request, *args, **kwargs):
        data = MeSerializer(self.get_object(), data=request.data, partial=True)
        data.is_valid(raise_exception=True)
        fields = dict(data.validated_data)
        accounts.update_profile(user=request.user, request=request, current_password=fields.pop("current_password", None),
                                **fields)
        return Response(MeSerializer(self.get_object()).data)


class UserDetailView(generics.RetrieveAPIView):
    serializer_class = UserSerializer
    lookup_field = "username__lower_exact"  # usernames are unique ignoring case, as on the profile page
    lookup_url_kwarg = "username"
    queryset = User.objects.with_counts()  # a deactivated member's posts still link here


class UserSuspensionView(APIView):
    """POST `{days, reason}` suspends the member; DELETE lifts it (moderators only)."""

    permission_classes = [permissions.IsAuthenticated]

    def _member(self, username: str) -> User:
        member = User.objects.filter(username__lower_exact=username).first()
        if member is None:
            raise NotFound
        return member

    @extend_schema(request=SuspensionSerializer, responses=UserSerializer)
    def post(self, request, username: str):
        data = SuspensionSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        member = services.suspend_member(moderator=request.user, member=self._member(username), **data.validated_data)
        return Response(UserSerializer(User.objects.with_counts().get(pk=member.pk)).data)

    @extend_schema(responses=UserSerializer)
    def delete(self, request, username: str):
        member = services.lift_suspension(moderator=request.user, member=self._member(username))
        return Response(UserSerializer(User.objects.with_counts().get(pk=member.pk)).data)


class UserMuteView(UserSuspensionView):
    """POST mutes the member (no notifications from them, their posts folded); DELETE unmutes."""

    @extend_schema(request=None, responses=MuteSerializer)
    def post(self, request, username: str):
        services.set_mute(user=request.user, member=self._member(username), muted=True)
        return Response({"muted": True})

    @extend_schema(responses=MuteSerializer)
    def delete(self, request, username: str):
        services.set_mute(user=request.user, member=self._member(username), muted=False)
        return Response({"muted": False})


class Conflict(APIException):
    status_code = status.HTTP_409_CONFLICT
    default_code = "conflict"


class CategoryViewSet(viewsets.ModelViewSet):
    serializer_class = CategorySerializer
    permission_classes = [IsStaffOrReadOnly]
    queryset = Category.objects.all()
    http_method_names = ["get", "post", "patch", "delete"]

    @extend_schema(request=WatchSerializer, responses=WatchSerializer)
    @action(detail=True, methods=["post"], permission_classes=[permissions.IsAuthenticated])
    def watch(self, request, pk=None):
        """Get a notification for each new thread in this category (`watching: true`), or stop."""
        data = WatchSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        services.set_new_thread_watch(user=request.user, category=self.get_object(),
                                      watching=data.validated_data["watching"])
        return Response({"watching": data.validated_data["watching"]})

    def perform_destroy(self, instance):
        """A category with threads is kept (threads protect it): a 409 that says why."""
        try:
            with transaction.atomic():
                instance.delete()
        except ProtectedError as exc:
            raise Conflict(_("This category still has threads: move or delete them first.")) from exc


@extend_schema(parameters=[
    OpenApiParameter("category", str), OpenApiParameter("tag", str),
    OpenApiParameter("kind", str, enum=Thread.Kind.values), OpenApiParameter("q", str),
    OpenApiParameter("ordering", str, enum=["-last_activity", "-created", "-score"]),
    *[OpenApiParameter(name, str, enum=["true", "false"])
      for name in ("new", "unread", "bookmarked", "unanswered", "solved")],
])
class ThreadViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.CreateModelMixin,
                    mixins.DestroyModelMixin, viewsets.GenericViewSet):
    serializer_class = ThreadSerializer

    # Filters that narrow the list when `=true` (the page's tabs and the member's own lists).
    FLAGS = {"new": lambda threads, user: threads.new_for(user),
             "unread": lambda threads, user: threads.unread_by(user),
             "bookmarked": lambda threads, user: threads.bookmarked_by(user),
             "unanswered": lambda threads, user: threads.unanswered(),
             "solved": lambda threads, user: threads.solved()}

    def get_queryset(self):
        user = self.request.user
        threads = Thread.objects.visible_to(user).for_list().with_new_replies(user).with_viewer_state(user)
        if self.action != "list":
            return threads
        f = {k: self.request.query_params.get(k) for k in ("category", "tag", "kind", "q", "ordering")}
        if f["category"]:
            threads = threads.filter(category__slug=f["category"])
        if f["tag"]:
            threads = threads.filter(tags__name=f["tag"])
        if f["kind"]:
            if f["kind"] not in Thread.Kind.values:
                raise ValidationError({"kind": [f"Must be one of {', '.join(Thread.Kind.values)}."]})
            threads = threads.filter(kind=f["kind"])
        for name, narrow in self.FLAGS.items():
            value = self.request.query_params.get(name)
            if value not in (None, "true", "false"):
                raise ValidationError({name: ["Must be true or false."]})
            if value == "true":
                threads = narrow(threads, user)
        if f["q"]:
            ids = search.matching(checked_query(f["q"]), kinds=[search.Kind.THREAD]).values("object_id")
            threads = threads.filter(pk__in=ids)
        return threads.ordered(f["ordering"])

    def create(self, request, *args, **kwargs):
        data = ThreadSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        v = data.validated_data
        thread = services.create_thread(author=request.user, category=v["category"],
                                        title=v["title"], body=v["body"], tags=v.get("tags", []),
                                        kind=v.get("kind", Thread.Kind.DISCUSSION))
        return Response(ThreadCreatedSerializer(self._fresh(thread)).data, status=status.HTTP_201_CREATED)

    def _fresh(self, thread: Thread) -> Thread:
        """The thread read again as the list reads it, with the caller's state (new replies,
        watching, bookmarked) after a change."""
        return self.get_queryset().get(pk=thread.pk)

    @extend_schema(request=ThreadUpdateSerializer, responses=ThreadSerializer)
    def partial_update(self, request, *args, **kwargs):
        thread = self.get_object()
        data = ThreadUpdateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        thread = services.update_thread(editor=request.user, thread=thread, **data.validated_data)
        return Response(ThreadSerializer(self._fresh(thread)).data)

    def perform_destroy(self, instance):
        services.delete_thread(user=self.request.user, thread=instance)

    @extend_schema(methods=["GET"], responses=PostSerializer(many=True))
    @extend_schema(methods=["POST"], request=PostSerializer, responses={201: PostSerializer})
    @action(detail=True, methods=["get", "post"])
    def posts(self, request, pk=None):
        thread = self.get_object()
        if request.method == "POST":
            data = PostSerializer(data=request.data)
            data.is_valid(raise_exception=True)
            post = services.create_post(author=request.user, thread=thread,
                                        body=data.validated_data["body"],
                                        reply_to=data.validated_data.get("reply_to"))
            post.my_vote = None
            return Response(PostSerializer(post).data, status=status.HTTP_201_CREATED)
        posts = thread.posts.visible_to(request.user).for_display(request.user).order_by("position")
        page = self.paginate_queryset(posts)
        return self.get_paginated_response(PostSerializer(page, many=True).data)

    def _change(self, body, change) -> Response:
        """The thread's actions: `body` (a serializer class) checks the request, `change(thread,
        data)` applies it, and the answer is the thread read again with the caller's state."""
        thread = self.get_object()
        data = body(data=self.request.data)
        data.is_valid(raise_exception=True)
        change(thread, data.validated_data)
        return Response(ThreadSerializer(self._fresh(thread)).data)

    @extend_schema(request=ReadSerializer, responses=ThreadSerializer)
    @action(detail=True, methods=["post"], permission_classes=[permissions.IsAuthenticated])
    def read(self, request, pk=None):
        """How far the caller has read, as opening the thread's page keeps it (it never goes back)."""
        def mark(thread, data):
            position = min(data.get("position", thread.highest_position), thread.highest_position)
            reading.mark_read(user=request.user, thread=thread, position=position, known=thread.read_up_to)
        return self._change(ReadSerializer, mark)

    @extend_schema(request=DismissSerializer, responses={200: None})
    @action(detail=False, methods=["post"], permission_classes=[permissions.IsAuthenticated])
    def dismiss(self, request):
        """Discourse's Dismiss: the caller's New or Unread threads (in `category`) count as read."""
        data = DismissSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        count = reading.dismiss(user=request.user, tab=data.validated_data["tab"],
                                category=data.validated_data.get("category"))
        return Response({"dismissed": count})

    @extend_schema(request=WatchSerializer, responses=ThreadSerializer)
    @action(detail=True, methods=["post"], permission_classes=[permissions.IsAuthenticated])
    def watch(self, request, pk=None):
        """Watch a thread (a notification for every reply) or stop, as its page's Watch button."""
        return self._change(WatchSerializer, lambda thread, data: services.set_watch(
            user=request.user, thread=thread, watching=data["watching"]))

    @extend_schema(request=BookmarkSerializer, responses=ThreadSerializer)
    @action(detail=True, methods=["post"], permission_classes=[permissions.IsAuthenticated])
    def bookmark(self, request, pk=None):
        """Bookmark a thread (listed with `bookmarked=true`) or remove the bookmark."""
        return self._change(BookmarkSerializer, lambda thread, data: services.set_bookmark(
            user=request.user, thread=thread, marked=data["bookmarked"]))

    @extend_schema(request=AcceptSerializer, responses=ThreadSerializer)
    @action(detail=True, methods=["post"], permission_classes=[permissions.IsAuthenticated])
    def accept(self, request, pk=None):
        return self._change(AcceptSerializer, lambda thread, data: services.accept_answer(
            user=request.user, thread=thread, post=data["post"]))

    @extend_schema(request=ModerateSerializer, responses=ThreadSerializer)
    @action(detail=True, methods=["post"], permission_classes=[permissions.IsAuthenticated])
    def moderate(self, request, pk=None):
        return self._change(ModerateSerializer, lambda thread, data: services.moderate_thread(
            moderator=request.user, thread=thread, action=data["action"], category=data.get("category")))


class PostViewSet(mixins.RetrieveModelMixin, mixins.DestroyModelMixin, viewsets.GenericViewSet):
    serializer_class = PostSerializer

    def get_queryset(self):
        return Post.objects.visible_to(self.request.user).for_display(self.request.user)

    @extend_schema(request=PostUpdateSerializer, responses=PostSerializer)
    def partial_update(self, request, *args, **kwargs):
        post = self.get_object()
        data = PostUpdateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        post = services.edit_post(editor=request.user, post=post, body=data.validated_data["body"])
        return Response(PostSerializer(self.get_queryset().get(pk=post.pk)).data)

    def perform_destroy(self, instance):
        services.delete_post(user=self.request.user, post=instance)

    @extend_schema(request=VoteSerializer, responses=VoteResultSerializer)
    @action(detail=True, methods=["post"], permission_classes=[permissions.IsAuthenticated])
    def vote(self, request, pk=None):
        data = VoteSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        post = services.vote(user=request.user, post=self.get_object(), value=data.validated_data["value"])
        return Response({"score": post.score, "my_vote": post.my_vote})

    @extend_schema(request=FlagSerializer, responses={201: None})
    @action(detail=True, methods=["post"], permission_classes=[permissions.IsAuthenticated])
    def flag(self, request, pk=None):
        data = FlagSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        services.flag_post(user=request.user, post=self.get_object(), kind=data.validated_data["kind"],
                           reason=data.validated_data["reason"])
        return Response({"flagged": True}, status=status.HTTP_201_CREATED)


class SearchView(APIView):
    permission_classes = [permissions.AllowAny]
    pagination_class = StandardPagination

    @extend_schema(parameters=[OpenApiParameter("q", str),
                               OpenApiParameter("type", str, enum=search.Kind.values),
                               OpenApiParameter("category", str, description="a category's slug"),
                               OpenApiParameter("author", str, description="a member's username"),
                               OpenApiParameter("after", OpenApiTypes.DATE), OpenApiParameter("before", OpenApiTypes.DATE),
                               OpenApiParameter("order", str, enum=["newest"])],
                   responses=SearchHitSerializer(many=True))
    def get(self, request):
        form = SearchForm(request.query_params)
        if not form.is_valid():
            raise ValidationError({field: list(errors) for field, errors in form.errors.items()})
        if not form.searches:
            raise ValidationError({"q": [_("Enter something to search for, or a filter.")]})
        query = form.cleaned_data["q"]
        paginator = self.pagination_class()
        docs = search.matching(query, kinds=form.kinds(), filters=form.filters())
        page = paginator.paginate_queryset(docs, request, view=self)
        hits = [search.to_hit(d, query) for d in page]
        return paginator.get_paginated_response(SearchHitSerializer(hits, many=True).data)


class NotificationListView(generics.ListAPIView):
    serializer_class = NotificationSerializer
    permission_classes = [permissions.IsAuthenticated]

    def get_queryset(self):
        return Notification.objects.for_recipient(self.request.user).select_related("actor", "thread")


class NotificationReadView(APIView):
    permission_classes = [permissions.IsAuthenticated]

    @extend_schema(request=MarkReadSerializer, responses={200: None})
    def post(self, request):
        data = MarkReadSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        count = services.mark_notifications_read(user=request.user, ids=data.validated_data.get("ids"))
        return Response({"marked": count})
