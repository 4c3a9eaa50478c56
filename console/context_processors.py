from django.conf import settings


def console(request):
    return {"CONSOLE_ENV": settings.CONSOLE_ENV}
