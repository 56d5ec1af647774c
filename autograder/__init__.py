"""Autograder for the course: checks for test cells, and grading outside the student's process."""
