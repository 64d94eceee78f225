from django.urls import path

from ecrm.views import CommunicationPreferencesView

app_name = "ecrm"

urlpatterns = [
    path("communication-preferences/", CommunicationPreferencesView.as_view(), name="communication-preferences"),
]
