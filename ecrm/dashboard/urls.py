from django.urls import path

from ecrm.dashboard import (customer_report_views, digest_views, duplicate_views, funnel_views, privacy_views,
                            report_views, segment_views, traffic_views, views)

app_name = "ecrm-dashboard"

urlpatterns = [
    path("", views.CustomerSearchView.as_view(), name="customer-search"),
    path("<int:pk>/", views.CustomerCardView.as_view(), name="customer"),
    path("<int:pk>/notes/", views.NoteCreateView.as_view(), name="customer-note"),
    path("<int:pk>/tags/", views.TagsUpdateView.as_view(), name="customer-tags"),
    path("<int:pk>/consents/", views.ConsentCreateView.as_view(), name="customer-consent"),
    path("duplicates/", duplicate_views.DuplicateListView.as_view(), name="duplicates"),
    path("duplicates/<int:first>/<int:second>/", duplicate_views.MergeView.as_view(), name="merge"),
    path("duplicates/<int:first>/<int:second>/different/", duplicate_views.NotDuplicateView.as_view(),
         name="not-duplicate"),
    path("reports/rfm/", report_views.RfmReportView.as_view(), name="rfm-report"),
    path("reports/lifetime-value/", report_views.LifetimeValueReportView.as_view(), name="clv-report"),
    path("reports/funnel/", funnel_views.FunnelReportView.as_view(), name="funnel-report"),
    path("reports/funnel/saved/", funnel_views.SavedFunnelSaveView.as_view(), name="funnel-save"),
    path("reports/funnel/saved/<int:pk>/", funnel_views.SavedFunnelSaveView.as_view(), name="funnel-update"),
    path("reports/funnel/saved/<int:pk>/delete/", funnel_views.SavedFunnelDeleteView.as_view(),
         name="funnel-delete"),
    path("reports/products/", report_views.ProductConversionReportView.as_view(), name="product-report"),
    path("reports/customers/", customer_report_views.CustomersReportView.as_view(), name="customers-report"),
    path("reports/digest/", digest_views.DigestSettingsView.as_view(), name="digest"),
    path("segments/", segment_views.SegmentListView.as_view(), name="segments"),
    path("segments/new/", segment_views.SegmentCreateView.as_view(), name="segment-create"),
    path("segments/count/", segment_views.SegmentCountView.as_view(), name="segment-count"),
    path("segments/<int:pk>/", segment_views.SegmentDetailView.as_view(), name="segment"),
    path("segments/<int:pk>/edit/", segment_views.SegmentUpdateView.as_view(), name="segment-edit"),
    path("segments/<int:pk>/export/", segment_views.SegmentExportView.as_view(), name="segment-export"),
    path("segments/<int:pk>/upload/", segment_views.StaticUploadView.as_view(), name="segment-upload"),
]


urlpatterns += [
    path("<int:pk>/export/", privacy_views.CustomerExportView.as_view(), name="customer-export"),
    path("<int:pk>/erase/", privacy_views.CustomerEraseView.as_view(), name="customer-erase"),
]

urlpatterns += [
    path("reports/traffic/", traffic_views.TrafficReportView.as_view(), name="traffic-report"),
    path("reports/traffic/costs/", traffic_views.CampaignCostCreateView.as_view(), name="campaign-cost-create"),
    path("reports/traffic/costs/<int:pk>/delete/", traffic_views.CampaignCostDeleteView.as_view(),
         name="campaign-cost-delete"),
]

from ecrm.dashboard import offer_views  # noqa: E402

urlpatterns += [
    path("segment-offers/", offer_views.SegmentOfferListView.as_view(), name="segment-offers"),
    path("segment-offers/<int:pk>/", offer_views.SegmentOfferEditView.as_view(), name="segment-offer"),
]
