"""The admin pages' services: who may use them, the configuration form, the activity and audit views."""
