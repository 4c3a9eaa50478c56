from django.urls import path

from breakglass import analytics, evidence, views

app_name = "breakglass"
urlpatterns = [
    path("", views.mine, name="mine"),
    path("new/", views.new, name="new"),
    path("approvals/", views.queue, name="queue"),
    path("all/", views.overview, name="all"),
    path("analytics/", analytics.page, name="analytics"),
    path("<int:pk>/", views.detail, name="detail"),
    path("<int:pk>/edit/", views.edit, name="edit"),
    path("<int:pk>/approve/", views.approve_view, name="approve"),
    path("<int:pk>/deny/", views.deny_view, name="deny"),
    path("<int:pk>/evidence/", evidence.page, name="evidence"),
    path("<int:pk>/evidence.json", evidence.export, name="evidence_json"),
    path("grants/<int:pk>/", views.grant_view, name="grant"),
    path("grants/<int:pk>/reveal/", views.reveal, name="reveal"),
    path("grants/<int:pk>/end/", views.end_view, name="end"),
    path("reviews/<int:pk>/", views.review, name="review"),
]
