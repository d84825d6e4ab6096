"""Server-rendered pages of jobs (the job dashboard)."""

from django.urls import path

from webapp.jobs.pages import job_dashboard_page

urlpatterns = [
    path("jobs/", job_dashboard_page, name="job-dashboard"),
]
