"""Pages of live review sessions."""

from django.urls import path

from webapp.live.pages import session_join_page, session_list_page, session_page

urlpatterns = [
    path("sessions/", session_list_page, name="review-session-list"),
    path("sessions/<id:session_id>/", session_page, name="review-session"),
    path("sessions/join/<str:token>/", session_join_page, name="review-session-join"),
]
