# Windows: build the Deskmate folder with PyInstaller and an installer with Inno Setup 6.
# Run on Windows 10/11 x64 in PowerShell, from the repository root:
#
#   powershell -ExecutionPolicy Bypass -File packaging\windows\build.ps1
#
# Needs: Python 3.10+ x64 (python.org, "py" launcher) and Inno Setup 6 (iscc.exe; winget install
# JRSoftware.InnoSetup). Optional: $env:DESKMATE_MODEL_DIR = a built model folder (for example one
# copied from a Linux build: the ONNX model is the same on every platform) to skip building it here.
# Output: dist\deskmate\ (deskmate.exe, deskmate-cli.exe) and dist\deskmate-<version>-setup.exe
$ErrorActionPreference = "Stop"
Set-Location (Join-Path $PSScriptRoot "..\..")
$Root = (Get-Location).Path
$Venv = Join-Path $Root ".venv"
$Py = Join-Path $Venv "Scripts\python.exe"

function Step($msg) { Write-Host "[windows] $msg" }
function Check($what) { if ($LASTEXITCODE -ne 0) { throw "$what failed (exit $LASTEXITCODE)" } }

# 1. Virtual environment: the app and the packaging tools (the model-building extra only when the
#    model is built here).
if (-not (Test-Path $Py)) { py -3 -m venv $Venv; Check "venv" }
& $Py -m pip install -q --upgrade pip; Check "pip"
if ($env:DESKMATE_MODEL_DIR) {
    & $Py -m pip install -q -e ".[package]"; Check "pip install"
} else {
    & $Py -m pip install -q "torch==2.13.0"; Check "pip install torch"
    & $Py -m pip install -q -e ".[build,package]"; Check "pip install"
    & $Py -m app model build; Check "deskmate model build"
    $models = & $Py -c "from app.paths import AppPaths; print(AppPaths.for_user().models)"
    $env:DESKMATE_MODEL_DIR = Join-Path $models "deskmate-v1"
}

# 2. The icon: a multi-size .ico from the PNGs in assets\.
New-Item -ItemType Directory -Force -Path "build\icons" | Out-Null
& $Py -c @"
from PIL import Image
sizes = [16, 24, 32, 48, 64, 128, 256]
Image.open('assets/deskmate-256.png').save('build/icons/deskmate.ico', sizes=[(s, s) for s in sizes])
"@
Check "icon"
$env:DESKMATE_ICON = Join-Path $Root "build\icons\deskmate.ico"

# 3. PyInstaller -> dist\deskmate\ ; then seal the model and refuse build-time packages.
if (Test-Path "dist\deskmate") { Remove-Item -Recurse -Force "dist\deskmate" }
& $Py -m PyInstaller --noconfirm --log-level WARN --distpath dist --workpath build\pyinstaller packaging\deskmate.spec
Check "PyInstaller"
& $Py packaging\finish_bundle.py "dist\deskmate\_internal"; Check "finish_bundle"

# 4. The frozen app starts and accepts its bundled model, in a throwaway profile.
$tmp = Join-Path $env:TEMP ("deskmate-check-" + [guid]::NewGuid())
New-Item -ItemType Directory -Path $tmp | Out-Null
$saved = @{ APPDATA = $env:APPDATA; LOCALAPPDATA = $env:LOCALAPPDATA; USERPROFILE = $env:USERPROFILE }
$env:APPDATA = "$tmp\Roaming"; $env:LOCALAPPDATA = "$tmp\Local"; $env:USERPROFILE = $tmp
try {
    & dist\deskmate\deskmate-cli.exe --version; Check "deskmate-cli --version"
    & dist\deskmate\deskmate-cli.exe model info; Check "deskmate-cli model info"
    $env:QT_QPA_PLATFORM = "offscreen"
    & dist\deskmate\deskmate-cli.exe --selftest
    if ($LASTEXITCODE -ne 0) { Write-Warning "the self-test failed (see above)" }
} finally {
    Remove-Item Env:QT_QPA_PLATFORM -ErrorAction SilentlyContinue
    foreach ($k in $saved.Keys) { Set-Item "Env:$k" $saved[$k] }
    Remove-Item -Recurse -Force $tmp
}

# 5. The installer.
$version = & $Py -c "import app; print(app.__version__)"
$iscc = (Get-Command iscc.exe -ErrorAction SilentlyContinue).Source
if (-not $iscc) { $iscc = "${env:ProgramFiles(x86)}\Inno Setup 6\ISCC.exe" }
if (-not (Test-Path $iscc)) { throw "Inno Setup 6 not found (winget install JRSoftware.InnoSetup)" }
& $iscc "/DAppVersion=$version" "/DSourceDir=$Root\dist\deskmate" "/DIconFile=$env:DESKMATE_ICON" `
    "/O$Root\dist" packaging\windows\deskmate.iss
Check "Inno Setup"
Step "done: dist\deskmate-$version-setup.exe"
