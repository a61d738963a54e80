; Inno Setup 6 script for Deskmate. Built by packaging\windows\build.ps1, which passes
; /DAppVersion, /DSourceDir (the PyInstaller folder) and /DIconFile.
;
; Installs per user by default (no admin rights; the user may pick "for all users"), adds a Start
; menu entry (and optionally a desktop one), and an uninstaller. Upgrades install over the same
; AppId and first remove the previous bundle's _internal folder so no stale library lingers.
; The user's settings and data (%APPDATA%\deskmate, %LOCALAPPDATA%\deskmate) are never touched:
; the uninstaller removes only what the installer wrote.

#ifndef AppVersion
  #define AppVersion "0.0.0"
#endif
#ifndef SourceDir
  #define SourceDir "..\..\dist\deskmate"
#endif

[Setup]
AppId={{6F1C7C2E-5D0B-4B8F-9C52-3A0E6D2B9E41}
AppName=Deskmate
AppVersion={#AppVersion}
AppVerName=Deskmate {#AppVersion}
AppPublisher=Deskmate developers
DefaultDirName={autopf}\Deskmate
DefaultGroupName=Deskmate
DisableProgramGroupPage=yes
PrivilegesRequired=lowest
PrivilegesRequiredOverridesAllowed=dialog
ArchitecturesAllowed=x64compatible
ArchitecturesInstallIn64BitMode=x64compatible
OutputBaseFilename=deskmate-{#AppVersion}-setup
Compression=lzma2/max
SolidCompression=yes
WizardStyle=modern
UninstallDisplayIcon={app}\deskmate.exe
CloseApplications=yes
#ifdef IconFile
SetupIconFile={#IconFile}
#endif

[Tasks]
Name: "desktopicon"; Description: "{cm:CreateDesktopIcon}"; GroupDescription: "{cm:AdditionalIcons}"; Flags: unchecked

[InstallDelete]
; An upgrade replaces the whole bundle: libraries of the old version must not linger.
Type: filesandordirs; Name: "{app}\_internal"

[Files]
Source: "{#SourceDir}\*"; DestDir: "{app}"; Flags: ignoreversion recursesubdirs createallsubdirs

[Icons]
Name: "{autoprograms}\Deskmate"; Filename: "{app}\deskmate.exe"
Name: "{autodesktop}\Deskmate"; Filename: "{app}\deskmate.exe"; Tasks: desktopicon

[Run]
Filename: "{app}\deskmate.exe"; Description: "{cm:LaunchProgram,Deskmate}"; Flags: nowait postinstall skipifsilent

[UninstallRun]
; Stop a running Deskmate (it lives in the tray) so its files can be removed.
Filename: "{sys}\taskkill.exe"; Parameters: "/IM deskmate.exe /F"; Flags: runhidden; RunOnceId: "StopDeskmate"
