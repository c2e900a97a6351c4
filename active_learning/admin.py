from django.contrib import admin

from active_learning.models import LearnerModel, LearnerSettings, ScoreChunk, Simulation
from core.admin import ModelAdmin, ReadOnlyModelAdmin


@admin.register(LearnerSettings)
class LearnerSettingsAdmin(ModelAdmin):
    list_display = ["project", "enabled", "strategy", "features", "retrain_every", "batch_size", "updated_at"]


@admin.register(LearnerModel)
class LearnerModelAdmin(ReadOnlyModelAdmin):
    list_display = ["id", "project", "number", "status", "trigger", "strategy", "n_labels", "created_at"]
    list_filter = ["status", "trigger"]


@admin.register(ScoreChunk)
class ScoreChunkAdmin(ReadOnlyModelAdmin):
    list_display = ["id", "model", "index", "rows", "seconds"]


@admin.register(Simulation)
class SimulationAdmin(ReadOnlyModelAdmin):
    list_display = ["id", "project", "status", "metric", "budget", "created_at"]
    list_filter = ["status"]
