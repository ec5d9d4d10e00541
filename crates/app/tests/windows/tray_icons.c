/* Test program: prints how many icons Wine's system tray shows. Wine 8 puts them into its
 * standalone tray window (class __winex11_standalone_tray, children __winex11_tray_icon) when
 * the X display has no tray of its own; explorer's own tray uses __wine_tray_icon. Exit 0. */
#include <windows.h>
#include <stdio.h>

static int icons;

static BOOL CALLBACK count(HWND window, LPARAM unused)
{
    wchar_t name[64];
    (void)unused;
    if (GetClassNameW(window, name, 64)
        && (!lstrcmpW(name, L"__winex11_tray_icon") || !lstrcmpW(name, L"__wine_tray_icon"))
        && IsWindowVisible(window))
        icons++;
    EnumChildWindows(window, count, 0);
    return TRUE;
}

int wmain(void)
{
    EnumWindows(count, 0);
    printf("%d\n", icons);
    return 0;
}
