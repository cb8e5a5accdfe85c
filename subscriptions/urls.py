from django.urls import path

from subscriptions import views

app_name = "subscriptions"
urlpatterns = [
    path("", views.signup, name="signup"),
    path("check-your-inbox/", views.check_inbox, name="check_inbox"),
    path("confirm/<str:token>/", views.confirm, name="confirm"),
    path("manage/", views.request_link, name="request_link"),
    path("manage/link-sent/", views.link_sent, name="link_sent"),
    path("manage/<str:token>/", views.manage, name="manage"),
    path("manage/<str:token>/pause/", views.pause, name="pause"),
    path("manage/<str:token>/resume/", views.resume, name="resume"),
    path("manage/<str:token>/interests/<int:pk>/remove/", views.remove_interest, name="remove_interest"),
    path("manage/<str:token>/papers/", views.add_papers, name="add_papers"),
    path("manage/<str:token>/papers/<int:pk>/remove/", views.remove_seed_paper, name="remove_seed_paper"),
    path("manage/<str:token>/papers/retry/", views.retry_seed_papers, name="retry_seed_papers"),
    path("manage/<str:token>/my-data.json", views.export, name="export"),
    path("manage/<str:token>/delete/", views.delete, name="delete"),
    path("deleted/", views.deleted, name="deleted"),
    path("unsubscribe/<str:token>/", views.unsubscribe, name="unsubscribe"),
    path("feedback/<str:token>/", views.feedback_view, name="feedback"),
]
