"""Template tags for repository pages: the dataset viewer on a dataset's card page."""
from django import template

from models_hub.repos import reads
from models_hub.repos.viewer import format_of, preview

register = template.Library()
MAX_PREVIEWS = 3


@register.inclusion_tag("models_hub/repo/viewer.html")
def dataset_viewer(resource):
    """The first rows of up to three data files (CSV, JSON Lines, Parquet) at the head."""
    if resource.kind != "dataset":
        return {"previews": []}
    data = [e for e in reads.entries(reads.head(resource)) if format_of(e.path)][:MAX_PREVIEWS]
    return {"previews": [preview(e.path, e.blob) for e in data], "resource": resource}
