"""Deletion notices: telling recipients to delete what a withdrawn consent had let them receive."""
